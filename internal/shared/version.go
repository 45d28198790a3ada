package shared

import (
	"runtime/debug"
	"sync"
)

// ModulePath is this module's path.
const ModulePath = "github.com/mergelink/linktoken"

// Version returns this module's version in the running program's build:
// the tag it was built at (a program installed with go install
// ...@<version>, or one whose go.mod requires a tagged version), or
// "(devel)" when it was built from a checkout or without build info.
var Version = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	return ModuleVersion(info, ok)
})

// ModuleVersion finds this module's version in build info.
func ModuleVersion(info *debug.BuildInfo, ok bool) string {
	version := "(devel)"
	if !ok || info == nil {
		return version
	}
	if info.Main.Path == ModulePath && info.Main.Version != "" {
		version = info.Main.Version
	}
	for _, dep := range info.Deps {
		if dep.Path == ModulePath && dep.Version != "" {
			version = dep.Version
		}
	}
	return version
}
