package client

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/mergelink/linktoken/gen"
	"github.com/mergelink/linktoken/internal/shared"
)

// AccountToken is what ExchangePublicToken returns: the account token of a
// linked account and what it is linked to. Its fields, generated from the
// spec's AccountToken:
//
//   - AccountToken (account_token): the long-lived credential for the
//     linked account, sent as X-Account-Token with every request about it.
//     Store it as a secret.
//   - ID (id): the linked account's id (Merge's older documents lack it, so
//     it may be empty).
//   - Integration (integration): the integration it is linked to: Name,
//     Slug, Categories (a category Merge added after this module was
//     generated is kept as sent), and its images and color.
//
// It prints without its account token, under every fmt verb, as a value or
// a pointer, and logs through slog without it; encoding/json encodes it
// whole, account token included, for storage.
type AccountToken gen.AccountToken

// String describes the account without its account token.
func (a AccountToken) String() string {
	return fmt.Sprintf("client.AccountToken{ID: %q, Integration: %q, AccountToken: %s}", a.ID, a.Integration.Name, shared.Redacted)
}

// Format prints String for every verb, so %+v and %#v cannot show the
// account token.
func (a AccountToken) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// LogValue makes slog log the account's id and integration, never its
// account token.
func (a AccountToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID), slog.String("integration", a.Integration.Name))
}
