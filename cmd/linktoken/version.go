package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/mergelink/linktoken/internal/shared"
)

// buildVersion is what `linktoken version` prints, read from the build
// info: the module's version (the tag when installed with go install
// ...@v0.1.0; "(devel)" when built from a checkout or without build info),
// the Go version, and the VCS revision when the build recorded one. The
// module's version is found as client's User-Agent finds it.
type buildVersion struct {
	module, goVersion, revision string
	modified                    bool
}

// readBuildVersion reads the Go version and the VCS revision from build
// info; module is this module's version, which client.Version finds in the
// same build info (the User-Agent carries it too).
func readBuildVersion(info *debug.BuildInfo, ok bool, module string) buildVersion {
	v := buildVersion{module: module, goVersion: runtime.Version()}
	if !ok || info == nil {
		return v
	}
	if info.GoVersion != "" {
		v.goVersion = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.revision = s.Value
		case "vcs.modified":
			v.modified = s.Value == "true"
		}
	}
	return v
}

func (v buildVersion) String() string {
	s := fmt.Sprintf("linktoken %s\n%s\n", v.module, v.goVersion)
	if v.revision != "" {
		s += "revision " + v.revision
		if v.modified {
			s += " (modified)"
		}
		s += "\n"
	}
	return s
}

const versionHelp = `Usage: linktoken version

Prints the version of linktoken (the module's, from the build), the Go version
it was built with, and the VCS revision when the build recorded one.
`

func runVersion(args []string, stdout, stderr io.Writer) int {
	cmd := newCommand("version", "version", versionHelp)
	if code, ok := cmd.parse(args, stdout, stderr); !ok {
		return code
	}
	info, ok := debug.ReadBuildInfo()
	fmt.Fprint(stdout, readBuildVersion(info, ok, shared.Version()))
	return exitOK
}
