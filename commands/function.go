package commands

import (
	"encoding/binary"

	"github.com/vdr-project/vdr/internal/script"
	"github.com/vdr-project/vdr/rdbparse"
)

// FUNCTION LIST (src/functions.c functionListCommand), from the libraries
// the projection mirrors from the link and the RDB, each run once in the
// Lua sandbox (internal/script) so the functions, flags and descriptions
// are what register_function really received. Redis lists libraries and
// functions in dict order, which differs from one process to the next
// (the command is flagged nondeterministic_output_order); vdr lists them
// sorted by name. A library vdr could not run makes the reply an explicit
// error rather than a guess.
//
// FUNCTION DUMP writes the payload rdbSaveFunctions would (one
// RDB_OPCODE_FUNCTION2 string per library, RDB version 10, CRC64) but
// stores each code string uncompressed where Redis LZF-compresses those
// over 20 bytes: FUNCTION RESTORE accepts both, the bytes differ.

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
	if !c.syncLibraries() {
		c.W.Error("ERR vdr: FUNCTION LIST: a function library sent by the primary could not be read")
		return
	}
	var out []*script.Library
	for _, l := range c.Env.Scripts().Libraries() {
		if pattern != nil && !StringMatch(pattern, []byte(l.Name), true) {
			continue
		}
		if l.Err != nil {
			c.W.Error("ERR vdr: FUNCTION LIST: library '" + l.Name + "' could not be loaded: " + l.Err.Error())
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
		c.W.BulkString("LUA")
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
			names := f.Flags.Names()
			c.W.Set(len(names))
			for _, fl := range names {
				c.W.Status(fl)
			}
		}
		if withCode {
			c.W.BulkString("library_code")
			c.W.BulkString(l.Code)
		}
	}
}

// functionDumpCommand is FUNCTION DUMP (functionDumpCommand,
// rdbSaveFunctions): see the note at the top of this file.
func functionDumpCommand(c *Ctx, args [][]byte) {
	if !c.syncLibraries() {
		c.W.Error("ERR vdr: FUNCTION DUMP: a function library sent by the primary could not be read")
		return
	}
	var b []byte
	for _, l := range c.Env.Scripts().Libraries() {
		b = append(b, 245) // RDB_OPCODE_FUNCTION2
		b = appendRDBLen(b, uint64(len(l.Code)))
		b = append(b, l.Code...)
	}
	b = binary.LittleEndian.AppendUint16(b, 10) // RDB_VERSION of Redis 7.0
	b = binary.LittleEndian.AppendUint64(b, rdbparse.CRC64(b))
	c.W.Bulk(b)
}

// appendRDBLen is rdbSaveLen.
func appendRDBLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0x81), n)
}
