package client

import (
	"runtime"
	"sync"

	"github.com/mergelink/linktoken/internal/shared"
)

// userAgent is the User-Agent every request carries:
// "github.com/mergelink/linktoken/<version> go/<version>", then what
// WithUserAgent appends.
var userAgent = sync.OnceValue(func() string {
	return shared.ModulePath + "/" + shared.Version() + " go/" + runtime.Version()
})
