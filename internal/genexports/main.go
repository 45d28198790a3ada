// Command genexports writes client/models.gen.go, so that users never
// import gen and no name is decided by hand:
//
//   - an alias in package client for every generated type a caller builds or
//     receives: the JSON request bodies and the 200 responses of the spec's
//     operations, and every type they reach;
//   - a constant for every value of their enums, and a <Type>Values
//     function;
//   - a Region constant for every server of the spec (its x-region value,
//     named by its x-go-name, which also names gen's URL builder for it),
//     RegionValues, and serverURL, which builds a region's base URL with
//     that builder.
//
// It reads the generated source of package gen (whose names come from the
// spec and oapi-codegen's settings) and the spec, for the operations'
// responses and the servers.
//
//	go run ./internal/genexports -gen gen/linktoken.gen.go -spec openapi/link-token.yaml -out client/models.gen.go
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

const genImport = "github.com/mergelink/linktoken/gen"

func main() {
	genFile := flag.String("gen", "../gen/linktoken.gen.go", "the generated source of package gen")
	specFile := flag.String("spec", "../openapi/link-token.yaml", "the spec gen was generated from")
	out := flag.String("out", "models.gen.go", "the file to write")
	pkg := flag.String("package", "client", "the package of the written file")
	own := flag.String("own", "", "comma-separated types the package declares itself (with methods): they get no alias, the types they reach do")
	flag.Parse()
	src, err := generate(*genFile, *specFile, *pkg, strings.Split(*own, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, "genexports:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genexports:", err)
		os.Exit(1)
	}
}

// genPackage is what generate needs to know of package gen.
type genPackage struct {
	types  map[string]*ast.TypeSpec
	docs   map[string]string
	consts map[string][]enumConst // by type name, in source order
	// funcs are gen's functions.
	funcs map[string]bool
}

type enumConst struct {
	name, value string
}

func parseGen(path string) (*genPackage, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	p := &genPackage{types: map[string]*ast.TypeSpec{}, docs: map[string]string{}, consts: map[string][]enumConst{}, funcs: map[string]bool{}}
	for _, decl := range f.Decls {
		if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil {
			p.funcs[fd.Name.Name] = true
			continue
		}
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				p.types[s.Name.Name] = s
				doc := s.Doc
				if doc == nil {
					doc = gd.Doc
				}
				p.docs[s.Name.Name] = doc.Text()
			case *ast.ValueSpec:
				if gd.Tok != token.CONST || s.Type == nil || len(s.Names) != 1 || len(s.Values) != 1 {
					continue
				}
				typ, ok := s.Type.(*ast.Ident)
				lit, isLit := s.Values[0].(*ast.BasicLit)
				if !ok || !isLit || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					return nil, err
				}
				p.consts[typ.Name] = append(p.consts[typ.Name], enumConst{name: s.Names[0].Name, value: v})
			}
		}
	}
	return p, nil
}

// roots returns the JSON request bodies of gen's operations (the
// <Op>JSONRequestBody aliases) and the types of the spec's 200 responses.
func (p *genPackage) roots(spec *specDoc) ([]string, error) {
	var roots []string
	for name, ts := range p.types {
		if !strings.HasSuffix(name, "JSONRequestBody") {
			continue
		}
		id, ok := ts.Type.(*ast.Ident)
		if !ok {
			return nil, fmt.Errorf("%s is not a named type", name)
		}
		roots = append(roots, id.Name)
	}
	responses, err := spec.successTypes()
	if err != nil {
		return nil, err
	}
	for _, name := range responses {
		if _, ok := p.types[name]; !ok {
			return nil, fmt.Errorf("the spec answers 200 with %s, which gen does not declare", name)
		}
		roots = append(roots, name)
	}
	if len(roots) == 0 {
		return nil, errors.New("gen declares no request body and the spec no 200 response")
	}
	sort.Strings(roots)
	return roots, nil
}

// specDoc is what generate reads of the spec.
type specDoc struct {
	Servers []struct {
		URL         string `yaml:"url"`
		Description string `yaml:"description"`
		Region      string `yaml:"x-region"`
		GoName      string `yaml:"x-go-name"`
	} `yaml:"servers"`
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components struct {
		Schemas map[string]struct {
			GoName string `yaml:"x-go-name"`
		} `yaml:"schemas"`
	} `yaml:"components"`
}

// operation is what successTypes reads of an operation.
type operation struct {
	Responses map[string]struct {
		Content map[string]struct {
			Schema struct {
				Ref string `yaml:"$ref"`
			} `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"responses"`
}

func readSpec(path string) (*specDoc, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc specDoc
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &doc, nil
}

// successTypes returns the Go names of the schemas the operations answer
// 200 with (as application/json), sorted.
func (d *specDoc) successTypes() ([]string, error) {
	var out []string
	for path, item := range d.Paths {
		for method, node := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
			default:
				continue
			}
			var op operation
			if err := node.Decode(&op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			ref := op.Responses["200"].Content["application/json"].Schema.Ref
			name, ok := strings.CutPrefix(ref, "#/components/schemas/")
			if !ok {
				continue
			}
			if goName := d.Components.Schemas[name].GoName; goName != "" {
				name = goName
			}
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// reachable returns the gen types reachable from roots through struct
// fields, maps, slices and pointers, sorted by name.
func (p *genPackage) reachable(roots []string) []string {
	seen := map[string]bool{}
	var visit func(e ast.Expr)
	visit = func(e ast.Expr) {
		switch t := e.(type) {
		case *ast.Ident:
			spec, ok := p.types[t.Name]
			if !ok || seen[t.Name] {
				return
			}
			seen[t.Name] = true
			visit(spec.Type)
		case *ast.StarExpr:
			visit(t.X)
		case *ast.ArrayType:
			visit(t.Elt)
		case *ast.MapType:
			visit(t.Key)
			visit(t.Value)
		case *ast.StructType:
			for _, f := range t.Fields.List {
				visit(f.Type)
			}
		}
	}
	for _, r := range roots {
		visit(&ast.Ident{Name: r})
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func generate(genFile, specFile, pkg string, own []string) ([]byte, error) {
	p, err := parseGen(genFile)
	if err != nil {
		return nil, err
	}
	spec, err := readSpec(specFile)
	if err != nil {
		return nil, err
	}
	roots, err := p.roots(spec)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/genexports from gen/linktoken.gen.go and openapi/link-token.yaml; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "package %s\n\nimport %q\n", pkg, genImport)
	if err := p.writeRegions(&b, spec); err != nil {
		return nil, err
	}
	for _, name := range p.reachable(roots) {
		if slices.Contains(own, name) {
			continue
		}
		spec := p.types[name]
		b.WriteString("\n")
		writeComment(&b, p.docs[name])
		if st, ok := spec.Type.(*ast.StructType); ok {
			writeFields(&b, st)
		}
		fmt.Fprintf(&b, "type %s = gen.%s\n", name, name)
		if consts := p.consts[name]; len(consts) > 0 {
			writeEnum(&b, name, consts)
		}
	}
	if len(p.consts) == 0 {
		return nil, errors.New("gen declares no enum constants")
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format: %w\n%s", err, b.Bytes())
	}
	return out, nil
}

func writeComment(b *bytes.Buffer, text string) {
	text = strings.TrimRight(text, "\n")
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			b.WriteString("//\n")
			continue
		}
		b.WriteString("// " + line + "\n")
	}
}

// writeFields lists a struct's fields in its doc comment, so "go doc" on the
// alias shows what to fill in.
func writeFields(b *bytes.Buffer, st *ast.StructType) {
	var lines []string
	for _, f := range st.Fields.List {
		if len(f.Names) != 1 || f.Tag == nil {
			continue
		}
		tag, err := strconv.Unquote(f.Tag.Value)
		if err != nil {
			continue
		}
		jsonName, opts, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
		if jsonName == "" || jsonName == "-" {
			continue
		}
		need := "required"
		if strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero") {
			need = "optional"
		}
		line := fmt.Sprintf("  - %s (%s, %s)", f.Names[0].Name, jsonName, need)
		if s := summary(f.Names[0].Name, f.Doc.Text()); s != "" {
			line += ": " + s
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("//\n// Fields (Go name, JSON name, whether the spec requires it):\n//\n")
	for _, l := range lines {
		b.WriteString("//" + l + "\n")
	}
}

// summary is the first sentence of a field's doc, without the leading name
// oapi-codegen puts there.
func summary(name, doc string) string {
	doc = strings.TrimPrefix(strings.TrimSpace(doc), name+" ")
	if i := strings.Index(doc, "\n\n"); i >= 0 {
		doc = doc[:i]
	}
	doc = strings.Join(strings.Fields(doc), " ")
	if i := strings.Index(doc, ". "); i >= 0 {
		doc = doc[:i+1]
	}
	return doc
}

func writeEnum(b *bytes.Buffer, typ string, consts []enumConst) {
	fmt.Fprintf(b, "\n// The values of %s.\nconst (\n", typ)
	for _, c := range consts {
		fmt.Fprintf(b, "\t%s = gen.%s // %q\n", c.name, c.name, c.value)
	}
	b.WriteString(")\n")
	fmt.Fprintf(b, "\n// %sValues returns every value of %s the spec defines, sorted.\n", typ, typ)
	fmt.Fprintf(b, "func %sValues() []%s {\n\treturn []%s{", typ, typ, typ)
	sorted := append([]enumConst(nil), consts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].value < sorted[j].value })
	for i, c := range sorted {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.name)
	}
	b.WriteString("}\n}\n")
}

// writeRegions writes a Region constant per server of the spec, in its
// order, RegionValues, and serverURL.
func (p *genPackage) writeRegions(b *bytes.Buffer, spec *specDoc) error {
	if len(spec.Servers) == 0 {
		return errors.New("the spec has no servers")
	}
	type region struct{ goName, value, fn, url, description string }
	var regions []region
	for i, srv := range spec.Servers {
		if srv.Region == "" || !strings.HasPrefix(srv.GoName, "Region") {
			return fmt.Errorf("server %d (%q) needs x-region (its name, such as us) and x-go-name (its constant, such as RegionUS)", i, srv.Description)
		}
		// oapi-codegen names a server's URL builder after its x-go-name.
		fn := "New" + srv.GoName
		if !p.funcs[fn] {
			return fmt.Errorf("server %d (%q): gen has no %s", i, srv.Description, fn)
		}
		regions = append(regions, region{srv.GoName, srv.Region, fn, srv.URL, srv.Description})
	}
	b.WriteString("\n// The regions of Merge's API: one per server of the spec, named by its\n// x-region, in the spec's order.\nconst (\n")
	for _, r := range regions {
		fmt.Fprintf(b, "\t%s Region = %q // %s: %s\n", r.goName, r.value, r.description, r.url)
	}
	b.WriteString(")\n\n// RegionValues returns every region, in the order of the spec's servers.\nfunc RegionValues() []Region {\n\treturn []Region{")
	for i, r := range regions {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.goName)
	}
	b.WriteString("}\n}\n")
	b.WriteString("\n// serverURL builds the base URL of region r's server for category c's API\n" +
		"// (its server variable's default when c is empty) with the builder gen\n" +
		"// generated for that server, which refuses a category the spec does not\n" +
		"// list. ok is false for an unknown region.\n" +
		"func serverURL(r Region, c Category) (url string, ok bool, err error) {\n\tswitch r {\n")
	for _, r := range regions {
		variable := r.goName + "CategoryVariable"
		if _, ok := p.types[variable]; !ok {
			return fmt.Errorf("server %q: gen has no %s: the server needs a category variable", r.description, variable)
		}
		fmt.Fprintf(b, "\tcase %s:\n\t\tif c == \"\" {\n\t\t\tc = Category(gen.%sDefault)\n\t\t}\n", r.goName, variable)
		fmt.Fprintf(b, "\t\turl, err := gen.%s(gen.%s(c))\n\t\treturn url, true, err\n", r.fn, variable)
	}
	b.WriteString("\t}\n\treturn \"\", false, nil\n}\n")
	return nil
}
