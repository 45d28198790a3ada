package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// modulePath is the module whose version `linktoken version` prints.
const modulePath = "github.com/mergelink/linktoken"

// buildVersion is what `linktoken version` prints, read from the build
// info: the module's version (the tag when installed with go install
// ...@v0.1.0; "(devel)" when built from a checkout or without build info),
// the Go version, and the VCS revision when the build recorded one. The
// module's version is found as client's User-Agent finds it.
type buildVersion struct {
	module, goVersion, revision string
	modified                    bool
}

func readBuildVersion(info *debug.BuildInfo, ok bool) buildVersion {
	v := buildVersion{module: "(devel)", goVersion: runtime.Version()}
	if !ok || info == nil {
		return v
	}
	if info.Main.Path == modulePath && info.Main.Version != "" {
		v.module = info.Main.Version
	}
	for _, dep := range info.Deps {
		if dep.Path == modulePath && dep.Version != "" {
			v.module = dep.Version
		}
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
	fmt.Fprint(stdout, readBuildVersion(debug.ReadBuildInfo()))
	return exitOK
}
