// Package lint holds tests of rules the codebase keeps, checked over its
// own source (as pebble's internal/lint does).
package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// valueKinds are the kinds a projected value can have (rdbparse's Kind
// constants; module values are never stored, so KindModule is optional).
var valueKinds = []string{"KindString", "KindList", "KindSet", "KindZSet", "KindHash", "KindStream"}

// TestKindSwitchesCoverEveryKind checks every switch over value kinds in
// the packages that store and serve values: a switch that names one kind
// names all of them, or has a default clause that says what the others
// get. A kind added later, or forgotten (OBJECT IDLETIME of a stream was
// always 0 because lru() had no stream case), then fails here rather than
// answering a silent zero.
func TestKindSwitchesCoverEveryKind(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, dir := range []string{"projection", "commands", "server", "rdbparse", "cmd/vdr"} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no Go files in %s", dir)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			checkKindSwitches(t, path)
		}
	}
}

func checkKindSwitches(t *testing.T, path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sw, ok := n.(*ast.SwitchStmt)
		if !ok || sw.Tag == nil {
			return true
		}
		named := map[string]bool{}
		hasDefault := false
		for _, st := range sw.Body.List {
			cc := st.(*ast.CaseClause)
			if cc.List == nil {
				hasDefault = true
			}
			for _, e := range cc.List {
				if name := kindName(e); name != "" {
					named[name] = true
				}
			}
		}
		if len(named) == 0 || hasDefault {
			return true
		}
		var missing []string
		for _, k := range valueKinds {
			if !named[k] {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			t.Errorf("%s: a switch over value kinds has no case for %s and no default", fset.Position(sw.Pos()), strings.Join(missing, ", "))
		}
		return true
	})
}

// kindName returns "KindX" for KindX or pkg.KindX, "" otherwise.
func kindName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		if strings.HasPrefix(x.Name, "Kind") {
			return x.Name
		}
	case *ast.SelectorExpr:
		if strings.HasPrefix(x.Sel.Name, "Kind") {
			return x.Sel.Name
		}
	}
	return ""
}
