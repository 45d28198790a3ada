package contracttest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mergelink/linktoken/client/webhook"
	"github.com/mergelink/linktoken/gen"
	"github.com/mergelink/linktoken/internal/shared"
)

// The mock's bounds on the Link flow it remembers.
const (
	// maxLinks is how many link tokens a mock remembers; past it, the oldest
	// is forgotten (with its public token), as if it had expired.
	maxLinks = 10_000
	// publicTokenTTL is how long a public token can be exchanged after
	// CompleteLink made it: Merge documents none; the mock's is short, as a
	// public token's should be.
	publicTokenTTL = 30 * time.Minute
	// webhookTimeout bounds the delivery of one webhook.
	webhookTimeout = 10 * time.Second
	// linkedEvent is the event of the webhook a completed link sends.
	linkedEvent = "LinkedAccount.linked"
)

// Errors of CompleteLink.
var (
	// ErrUnknownLinkToken: the mock did not issue the link token, or has
	// forgotten it (it remembers the last 10,000).
	ErrUnknownLinkToken = errors.New("contracttest: the mock did not issue this link token")
	// ErrLinkTokenExpired: the link token's link_expiry_mins have passed.
	ErrLinkTokenExpired = errors.New("contracttest: the link token has expired")
	// ErrLinkCompleted: a link token is completed once.
	ErrLinkCompleted = errors.New("contracttest: the link was already completed")
)

// links is a mock's memory of the Link flow: the link tokens it issued,
// the public tokens CompleteLink made of them, and which were exchanged.
type links struct {
	mu       sync.Mutex
	byLink   map[string]*link
	byPublic map[string]*link
	order    []string // link tokens, oldest first
	max      int
}

// link is one link token and what became of it.
type link struct {
	token     string
	expires   time.Time
	request   gen.LinkTokenRequest
	public    string
	publicTTL time.Time
	exchanged bool
	accountID string
}

func newLinks() *links {
	return &links{byLink: map[string]*link{}, byPublic: map[string]*link{}, max: maxLinks}
}

// issued remembers a link token the mock answered, forgetting the oldest
// past the bound.
func (ls *links) issued(token string, req gen.LinkTokenRequest, now time.Time) {
	mins := req.LinkExpiryMins
	if mins == 0 {
		mins = 30 // the spec's default
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.byLink[token] = &link{token: token, expires: now.Add(time.Duration(mins) * time.Minute), request: req}
	ls.order = append(ls.order, token)
	for len(ls.order) > ls.max {
		old := ls.byLink[ls.order[0]]
		delete(ls.byLink, ls.order[0])
		if old != nil && old.public != "" {
			delete(ls.byPublic, old.public)
		}
		ls.order = ls.order[1:]
	}
}

// complete makes the public token of a link token, as Merge Link does when
// the end user finishes.
func (ls *links) complete(token string, now time.Time) (*link, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.byLink[token]
	switch {
	case l == nil:
		return nil, ErrUnknownLinkToken
	case l.public != "":
		return nil, ErrLinkCompleted
	case now.After(l.expires):
		return nil, ErrLinkTokenExpired
	}
	l.public = randomToken(32)
	l.publicTTL = now.Add(publicTokenTTL)
	l.accountID = uuidV4()
	ls.byPublic[l.public] = l
	cp := *l
	return &cp, nil
}

// exchange consumes a public token: the link it was made for, or false
// when it is unknown, expired or already exchanged.
func (ls *links) exchange(public string, now time.Time) (link, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.byPublic[public]
	if l == nil || l.exchanged || now.After(l.publicTTL) {
		return link{}, false
	}
	l.exchanged = true
	return *l, true
}

// CompleteLink stands in for the end user finishing Merge Link with a link
// token the mock issued: it returns the public token Merge Link would hand
// the front end, which GET /account-token/{public_token} then exchanges
// once. With WithWebhook, it also delivers the signed linked-account
// webhook, as Merge does, and returns an error if the delivery failed (not
// a 2xx within 10 seconds). It fails for a link token the mock did not
// issue (ErrUnknownLinkToken), one whose link_expiry_mins have passed
// (ErrLinkTokenExpired) and one already completed (ErrLinkCompleted).
func (m *Mock) CompleteLink(linkToken string) (publicToken string, err error) {
	l, err := m.links.complete(linkToken, m.now())
	if err != nil {
		return "", err
	}
	if m.webhookURL != "" {
		if err := m.deliver(l); err != nil {
			return l.public, err
		}
	}
	return l.public, nil
}

// exchangePublicToken answers a valid GET /account-token/{public_token}.
func (m *Mock) exchangePublicToken(r *http.Request, _ []byte) (int, any) {
	public := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	l, ok := m.links.exchange(public, m.now())
	if !ok {
		return http.StatusNotFound, errorBody{detail: "Not found."}
	}
	return http.StatusOK, gen.AccountToken{
		AccountToken: randomToken(30),
		ID:           l.accountID,
		Integration:  integrationOf(l.request),
	}
}

// integrationOf is the integration a link would have been made with: the
// request's, else the first category's usual one.
func integrationOf(req gen.LinkTokenRequest) gen.AccountIntegration {
	slug := cmp.Or(req.Integration, defaultIntegrations[firstCategory(req.Categories)], "bamboohr")
	return gen.AccountIntegration{Name: integrationName(slug), Slug: slug, Categories: req.Categories}
}

// firstCategory is a request's first category, "" when it has none.
func firstCategory(categories []gen.Category) gen.Category {
	if len(categories) == 0 {
		return ""
	}
	return categories[0]
}

// defaultIntegrations is the integration the mock links for a category
// when the request names none.
var defaultIntegrations = map[gen.Category]string{
	gen.CategoryHRIS: "bamboohr", gen.CategoryATS: "greenhouse", gen.CategoryAccounting: "quickbooks-online",
	gen.CategoryCRM: "hubspot", gen.CategoryTicketing: "jira", gen.CategoryMktg: "mailchimp",
	gen.CategoryFileStorage: "google-drive", gen.CategoryKnowledgeBase: "confluence",
}

// deliver POSTs the linked-account webhook of a completed link, signed as
// Merge signs it.
func (m *Mock) deliver(l *link) error {
	integration := integrationOf(l.request)
	body, _ := json.Marshal(gen.LinkedAccountWebhook{
		Hook: gen.WebhookHook{ID: "mock-hook", Event: linkedEvent, Target: m.webhookURL},
		LinkedAccount: gen.WebhookLinkedAccount{
			ID: l.accountID, Integration: integration.Name, IntegrationSlug: integration.Slug, Category: string(firstCategory(l.request.Categories)),
			EndUserOriginID: l.request.EndUserOriginID, EndUserOrganizationName: l.request.EndUserOrganizationName,
			EndUserEmailAddress: l.request.EndUserEmailAddress, Status: "COMPLETE",
		},
		Data: json.RawMessage(`{"is_initial_link":true}`),
	})
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.webhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("contracttest: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(body, m.webhookKey))
	resp, err := m.webhookClient.Do(req)
	if err != nil {
		return fmt.Errorf("contracttest: webhook delivery: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("contracttest: webhook delivery: %s answered %d", shared.Quote(m.webhookURL), resp.StatusCode)
	}
	return nil
}

// uuidV4 is a random UUID, as Merge's linked account ids are.
func uuidV4() string {
	b := []byte(randomBytes(16))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
