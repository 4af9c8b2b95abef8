package commands

import "github.com/vdr-project/vdr/projection"

// FUNCTION LIST (src/functions.c functionListCommand), from the libraries
// the projection mirrors from the link and the RDB. Redis lists libraries
// and functions in dict order, which differs from one process to the next
// (the command is flagged nondeterministic_output_order); vdr lists them
// sorted by name. A library whose functions internal/funclib cannot tell
// without running Lua makes the reply an explicit error rather than a
// guess. FUNCTION DUMP stays unsupported: Redis LZF-compresses each code
// string (rdbSaveRawString), which vdr does not reproduce byte for byte.

func init() {
	dataHandlers["function|list"] = functionListCommand
}

func functionListCommand(c *Ctx, args [][]byte) {
	withCode := false
	var pattern []byte
	for i := 2; i < len(args); i++ {
		switch {
		case !withCode && equalFold(args[i], "withcode"):
			withCode = true
		case pattern == nil && equalFold(args[i], "libraryname"):
			if i >= len(args)-1 {
				c.W.Error("ERR library name argument was not given")
				return
			}
			i++
			pattern = args[i]
		default:
			c.W.Error("ERR Unknown argument " + string(args[i]))
			return
		}
	}
	libs, err := c.Env.Proj.Libraries()
	if err != nil {
		c.W.Error("ERR vdr: FUNCTION LIST: a function library sent by the primary could not be read")
		return
	}
	var out []projection.Library
	for _, l := range libs {
		if pattern != nil && !StringMatch(pattern, []byte(l.Name), true) {
			continue
		}
		if l.FunctionsErr != nil {
			c.W.Error("ERR vdr: FUNCTION LIST cannot tell the functions of library '" + l.Name + "' without running its code")
			return
		}
		out = append(out, l)
	}
	c.W.Array(len(out))
	for _, l := range out {
		if withCode {
			c.W.Map(4)
		} else {
			c.W.Map(3)
		}
		c.W.BulkString("library_name")
		c.W.BulkString(l.Name)
		c.W.BulkString("engine")
		c.W.BulkString(l.Engine)
		c.W.BulkString("functions")
		c.W.Array(len(l.Functions))
		for _, f := range l.Functions {
			c.W.Map(3)
			c.W.BulkString("name")
			c.W.BulkString(f.Name)
			c.W.BulkString("description")
			if f.HasDesc {
				c.W.BulkString(f.Description)
			} else {
				c.W.Null()
			}
			c.W.BulkString("flags")
			c.W.Set(len(f.Flags))
			for _, fl := range f.Flags {
				c.W.Status(fl)
			}
		}
		if withCode {
			c.W.BulkString("library_code")
			c.W.BulkString(l.Code)
		}
	}
}
