package funclib

import (
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/vdr-project/vdr/internal/redistest"
	"github.com/vdr-project/vdr/internal/resp"
)

func TestParseMeta(t *testing.T) {
	f := func(code string, want Meta, wantErr error) {
		t.Helper()
		got, err := ParseMeta(code)
		if !errors.Is(err, wantErr) || (err == nil && got != want) {
			t.Errorf("ParseMeta(%q) = %+v, %v; want %+v, %v", code, got, err, want, wantErr)
		}
	}
	f("#!lua name=lib\nreturn", Meta{"lua", "lib"}, nil)
	f("#!LUA   NAME=x \t\nreturn", Meta{"LUA", "x"}, nil)
	f("#!lua\n", Meta{}, ErrMetadata)
	f("lua name=x\n", Meta{}, ErrMetadata)
	f("#!lua name=x", Meta{}, ErrMetadata)
	f("#!lua name=x name=y\n", Meta{}, ErrMetadata)
	f("#!lua name=x foo=bar\n", Meta{}, ErrMetadata)
	f("#!lua name=\"x y\"\n", Meta{}, ErrUncertain)
}

// libraries are loaded into a real redis-server 7.0.15; those marked
// uncertain must load there too (the parser is conservative, not wrong).
var libraries = []struct {
	code      string
	uncertain bool
}{
	{code: "#!lua name=pos\nredis.register_function('f1', function(keys, args) return redis.call('GET', keys[1]) end)\n" +
		"redis.register_function(\"f2\", function() if true then return 1 end end)"},
	{code: "#!lua name=named\n-- a comment with redis.register_function('no', f)\n--[[ long\ncomment ]]\n" +
		"local function helper(keys, args)\n  for i = 1, 2 do end\n  return #keys\nend\n" +
		"redis.register_function{function_name='ro', callback=helper, flags={'no-writes', 'allow-stale'}, description='reads \\'stuff\\'\\n'}\n" +
		"redis.register_function({function_name=[[Two_2]], callback=function(k, a) return {1, {2}} end, flags={'allow-cross-slot-keys','no-writes','no-cluster','allow-oom'}})\n" +
		"redis.register_function{callback=function() return 'x' end, function_name='empty_desc', description=''};"},
	{code: "#!lua name=loop\nfor i = 1, 2 do\n  redis.register_function('loop' .. i, function() return i end)\nend", uncertain: true},
	{code: "#!lua name=alias\nlocal rf = redis.register_function\nrf('alias_a', function() return 1 end)", uncertain: true},
	{code: "#!lua name=computed\nlocal name = 'a' .. 'b'\nredis.register_function(name, function() return 1 end)", uncertain: true},
	{code: "#!lua name=indexed\nredis['register_function']('indexed_a', function() return 1 end)", uncertain: true},
	{code: "#!lua name=cond\nif redis then\nredis.register_function('cond_a', function() return 1 end)\nend", uncertain: true},
}

func TestFunctionsAgainstRedis(t *testing.T) {
	srv := redistest.Start(t)
	c, err := resp.Dial(srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, lib := range libraries {
		meta, err := ParseMeta(lib.code)
		if err != nil {
			t.Fatalf("%q: %v", lib.code, err)
		}
		r, err := c.Do("FUNCTION", "LOAD", "REPLACE", lib.code)
		if err != nil || r.Err() != nil || r.Str != meta.Name {
			t.Fatalf("FUNCTION LOAD %s: %+v %v", meta.Name, r, err)
		}
		got, err := Functions(lib.code)
		if lib.uncertain {
			if !errors.Is(err, ErrUncertain) {
				t.Errorf("%s: want ErrUncertain, got %v %+v", meta.Name, err, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", meta.Name, err)
			continue
		}
		r, err = c.Do("FUNCTION", "LIST", "LIBRARYNAME", meta.Name)
		if err != nil || len(r.Array) != 1 {
			t.Fatalf("FUNCTION LIST %s: %+v %v", meta.Name, r, err)
		}
		fl := r.Array[0].Array // library_name n engine e functions [...]
		if fl[1].Str != meta.Name || fl[3].Str != "LUA" {
			t.Errorf("%s: library %+v", meta.Name, fl)
		}
		var want []Function
		for _, fn := range fl[5].Array {
			a := fn.Array // name n description d flags [..]
			f := Function{Name: a[1].Str, Description: a[3].Str, HasDesc: !a[3].Null}
			for _, fl := range a[5].Array {
				f.Flags = append(f.Flags, fl.Str)
			}
			want = append(want, f)
		}
		sort.Slice(want, func(i, j int) bool { return want[i].Name < want[j].Name })
		if len(got) != len(want) {
			t.Errorf("%s: got %+v, want %+v", meta.Name, got, want)
			continue
		}
		for i := range want {
			if got[i].Name != want[i].Name || got[i].HasDesc != want[i].HasDesc || got[i].Description != want[i].Description ||
				!slices.Equal(got[i].Flags, want[i].Flags) {
				t.Errorf("%s: function %d got %+v, want %+v", meta.Name, i, got[i], want[i])
			}
		}
	}
}

// TestFunctionsNeverPanic feeds truncations of the libraries.
func TestFunctionsNeverPanic(t *testing.T) {
	for _, lib := range libraries {
		for i := 0; i <= len(lib.code); i++ {
			ParseMeta(lib.code[:i])
			Functions(lib.code[:i])
		}
	}
}

// FuzzFunctions: any input gives functions or an error, never a panic,
// and any functions found have valid names and known flags.
func FuzzFunctions(f *testing.F) {
	for _, lib := range libraries {
		f.Add(lib.code)
	}
	f.Add("#!lua name=x\nredis.register_function{function_name='a', callback=f, flags={'no-writes'")
	f.Fuzz(func(t *testing.T, code string) {
		ParseMeta(code)
		fs, err := Functions(code)
		if err != nil {
			return
		}
		for _, fn := range fs {
			if checkName(fn.Name) != nil {
				t.Fatalf("bad name %q", fn.Name)
			}
			for _, fl := range fn.Flags {
				if !slices.Contains(flagOrder, fl) {
					t.Fatalf("bad flag %q", fl)
				}
			}
		}
	})
}
