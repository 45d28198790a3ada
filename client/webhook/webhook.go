// Package webhook receives the webhooks Merge sends about linked accounts:
// it verifies their signature, bounds what it reads, and decodes the
// envelope into the types generated from the spec (LinkedAccountWebhook in
// openapi/link-token.yaml). With a Magic Link no front end receives a public
// token, so the linked-account webhook is how a backend learns that linking
// finished.
//
// Merge signs each webhook with the organization's webhook signature key
// (the dashboard's Security page): the X-Merge-Webhook-Signature header
// carries the Base64url encoding of the HMAC-SHA256 of the raw body, the
// bytes as received. Verify checks it against one key or several (during a
// rotation, the old and the new), in constant time, with or without the
// padding; Sign computes it, for tests. Handler does both around a
// function of yours.
//
// It uses the standard library only (and the generated types of package
// gen).
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/mergelink/linktoken/gen"
)

// SignatureHeader is the header that carries a webhook's signature.
const SignatureHeader = "X-Merge-Webhook-Signature"

// Event is a webhook's body: which webhook fired (Hook), the linked
// account it concerns (LinkedAccount) and the event's data (Data, raw
// JSON). Its fields:
//
//   - Hook: ID, Event (such as "LinkedAccount.linked": compare with
//     SameEvent, Merge spells event names in more than one way), Target;
//   - LinkedAccount: ID (the linked account's, as AccountToken's),
//     Integration, IntegrationSlug, Category, EndUserOriginID,
//     EndUserOrganizationName, EndUserEmailAddress (personal data), Status.
type Event = gen.LinkedAccountWebhook

// The errors of Verify, and so of Handler's 401.
var (
	// ErrNoSignature: the request carries no signature.
	ErrNoSignature = errors.New("webhook: no " + SignatureHeader + " header")
	// ErrBadSignature: the signature is not the body's under any key.
	ErrBadSignature = errors.New("webhook: the signature does not match the body")
	// ErrNoKey: Verify was given no key, or only empty ones.
	ErrNoKey = errors.New("webhook: no signature key")
)

// Sign returns the signature Merge sends for body under key: the Base64url
// encoding (with padding) of HMAC-SHA256(key, body).
func Sign(body []byte, key string) string {
	return base64.URLEncoding.EncodeToString(mac(body, key))
}

// Verify reports whether signature is the signature of body, the raw bytes
// as received (never a re-encoded body), under one of keys: nil, or
// ErrNoSignature, ErrBadSignature or ErrNoKey. The padding is optional, as
// Merge's documentation says; surrounding space is ignored. Each comparison
// takes constant time.
func Verify(body []byte, signature string, keys ...string) error {
	signature = strings.TrimRight(strings.TrimSpace(signature), "=")
	if signature == "" {
		return ErrNoSignature
	}
	got, err := base64.RawURLEncoding.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return ErrBadSignature
	}
	tried := false
	for _, key := range keys {
		if key == "" {
			continue
		}
		tried = true
		if hmac.Equal(got, mac(body, key)) {
			return nil
		}
	}
	if !tried {
		return ErrNoKey
	}
	return ErrBadSignature
}

func mac(body []byte, key string) []byte {
	h := hmac.New(sha256.New, []byte(key))
	h.Write(body)
	return h.Sum(nil)
}

// The event of the linked-account webhook, as Merge's documentation writes
// it.
const EventLinked = "LinkedAccount.linked"

// SameEvent reports whether two event names are one event as Merge spells
// it in its different pages: "LinkedAccount.linked", "linked_account.linked"
// and "linkedaccount.LINKED" are the same (case, underscores and hyphens
// aside).
func SameEvent(a, b string) bool {
	return strings.EqualFold(normalize(a), normalize(b))
}

var eventSpelling = strings.NewReplacer("_", "", "-", "")

func normalize(event string) string { return eventSpelling.Replace(strings.TrimSpace(event)) }
