package contracttest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mergelink/linktoken/openapi"
)

// twoMethodsSpec has two operations on one path, which the embedded spec
// does not (yet) have.
const twoMethodsSpec = `openapi: 3.0.3
info: {title: two methods, version: "1"}
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
security:
  - bearerAuth: []
paths:
  /things:
    get:
      responses:
        '200': {description: the things}
    post:
      responses:
        '200': {description: a new thing}
`

// TestMockFindsTheOperationOfAMethod: on a path with several operations,
// the mock answers each method with its own operation (here a 401 for the
// missing key), and another method 405 with every method of the path.
func TestMockFindsTheOperationOfAMethod(t *testing.T) {
	t.Parallel()
	doc, err := openapi.Parse([]byte(twoMethodsSpec))
	require.NoError(t, err)
	v, err := validatorOf(doc)
	require.NoError(t, err)
	m, err := NewMock(WithValidator(v))
	require.NoError(t, err)
	cases := []struct {
		method string
		status int
	}{
		{http.MethodGet, http.StatusUnauthorized},
		{http.MethodPost, http.StatusUnauthorized},
		{http.MethodDelete, http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, httptest.NewRequest(tc.method, "http://mock/things", nil))
			assert.Equal(t, tc.status, rec.Code,
				"%s /things: the mock must take the operation of the request's method among those of its path (%s)", tc.method, rec.Body.String())
			if tc.status == http.StatusMethodNotAllowed {
				assert.Equal(t, "GET, POST", rec.Header().Get("Allow"))
			}
		})
	}
}
