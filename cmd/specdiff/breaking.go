package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"

	"github.com/mergelink/linktoken/openapi"
)

func runBreaking(args []string, stdout io.Writer, now time.Time) (int, error) {
	fs := flag.NewFlagSet("breaking", flag.ContinueOnError)
	base := fs.String("base", "", "the spec before: a git ref (read as <ref>:"+openapi.SpecPath+") or a file")
	head := fs.String("head", openapi.SpecPath, "the spec after: a file")
	format := fs.String("format", "text", "output: "+strings.Join(breakingFormats, ", "))
	allowFile := fs.String("allow", "", "a file of acknowledged breaking changes, one per line: "+allowFormat+"; an entry acknowledges its change up to and including the day it gives")
	strict := fs.Bool("strict", false, "exit 1 when an -allow entry matches no breaking change, or its date has passed")
	if err := parseFlags(fs, breakingSynopsis, args, stdout); err != nil {
		return 0, err
	}
	if *base == "" {
		return 0, usageError{breakingSynopsis, "breaking needs -base"}
	}
	if err := checkFormat(*format, breakingFormats, breakingSynopsis); err != nil {
		return 0, err
	}
	allow, err := readAllow(*allowFile, now)
	if err != nil {
		return 0, err
	}
	baseData, baseName, err := readBase(*base)
	if err != nil {
		return 0, err
	}
	headData, err := readSource("-head", *head, false)
	if err != nil {
		return 0, err
	}
	s1, err := loadSpecWith(baseData, baseName, true)
	if err != nil {
		return 0, err
	}
	s2, err := loadSpecWith(headData, *head, true)
	if err != nil {
		return 0, err
	}
	changes, err := compare(diff.NewConfig(), s1, s2)
	if err != nil {
		return 0, err
	}
	r := newReport(changes, allow, s2.Spec)
	r.showKeys, r.strict, r.head = true, *strict, *head
	r.title = fmt.Sprintf("%s -> %s", baseName, *head)
	return writeAs(stdout, *format, r)
}

// compare diffs two specs with oasdiff and runs every backward-compatibility
// check, at every level.
func compare(cfg *diff.Config, base, head *load.SpecInfo) (checker.Changes, error) {
	d, sources, err := diff.GetPathsDiff(cfg, []*load.SpecInfo{base}, []*load.SpecInfo{head})
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	return checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks()), d, sources, checker.INFO), nil
}

// readBase reads -base: a file when one exists at that path, else a git ref.
// A ref may not start with "-", where git would read it as an option.
func readBase(base string) ([]byte, string, error) {
	if _, err := os.Stat(base); err == nil {
		data, err := readFile("-base", base, maxDocumentBytes)
		return data, base, err
	}
	if strings.HasPrefix(base, "-") {
		return nil, "", usageError{breakingSynopsis, fmt.Sprintf("-base %q: a git ref cannot start with \"-\"", shown(base))}
	}
	name := base + ":" + openapi.SpecPath
	data, err := gitShow("", name, maxDocumentBytes)
	if err != nil {
		return nil, "", fmt.Errorf("-base %q is neither a file nor a git ref holding %s: %w", shown(base), openapi.SpecPath, err)
	}
	return data, name, nil
}

// gitShow returns what "git show <object>" prints in dir (the working
// directory when empty), at most limit bytes of it; git is stopped when it
// prints more. object comes after --end-of-options, so git never reads it as
// an option.
func gitShow(dir, object string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", "show", "--end-of-options", object)
	cmd.Dir, cmd.Stderr = dir, &errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	data, readErr := readLimited(stdout, limit, 0)
	if readErr != nil {
		cancel()
	}
	waitErr := cmd.Wait()
	switch {
	case readErr != nil:
		return nil, readErr
	case waitErr != nil:
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			return nil, errors.New(clip(msg, maxErrorBytes)) // git quotes the object, unbounded
		}
		return nil, waitErr
	}
	return data, nil
}

// loadSpec parses a spec with a fresh loader, refusing external references.
func loadSpec(data []byte, name string) (*load.SpecInfo, error) {
	return loadSpecWith(data, name, false)
}

// loadSpecWith is loadSpec, keeping where each element is written when
// origin is set (the annotations' line numbers; kin-openapi's
// IncludeOrigin, as oasdiff's own command loads).
func loadSpecWith(data []byte, name string, origin bool) (*load.SpecInfo, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.IncludeOrigin = origin
	info, err := load.NewSpecInfoFromData(loader, data, name)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", shown(name), err)
	}
	if !strings.HasPrefix(info.Spec.OpenAPI, "3.") {
		return nil, fmt.Errorf("load %s: not an OpenAPI 3 document", shown(name))
	}
	return info, nil
}
