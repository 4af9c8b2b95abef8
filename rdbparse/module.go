package rdbparse

// moduleCharset is the alphabet of module type names (see
// moduleTypeNameByID in src/module.c): 64 symbols, 6 bits each.
const moduleCharset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// moduleName decodes the 9-character type name from a 64-bit module id:
// the top 54 bits are the name, the low 10 bits the encoding version.
func moduleName(id uint64) string {
	var name [9]byte
	id >>= 10
	for j := 8; j >= 0; j-- {
		name[j] = moduleCharset[id&63]
		id >>= 6
	}
	return string(name[:])
}

func moduleOf(id uint64) Module {
	return Module{ID: id, Name: moduleName(id), Ver: int(id & 1023)}
}

// readModuleValue skips a RDB_TYPE_MODULE_2 value through its opcodes and
// reports it.
func (p *Parser) readModuleValue() error {
	id, err := p.readLength("module id")
	if err != nil {
		return err
	}
	p.module = moduleOf(id)
	if err := p.skipModuleOpcodes(); err != nil {
		return err
	}
	p.e.Module = &p.module
	p.e.Last = true
	if err := p.h.Entry(&p.e); err != nil {
		return p.handlerErr(err)
	}
	p.e.Module = nil
	return nil
}

// readModuleAux skips RDB_OPCODE_MODULE_AUX: module id, the "when" value
// (behind an RDB_MODULE_OPCODE_UINT), then the module's opcodes.
func (p *Parser) readModuleAux() error {
	id, err := p.readLength("module aux id")
	if err != nil {
		return err
	}
	op, err := p.readLength("module aux when opcode")
	if err != nil {
		return err
	}
	if op != moduleOpcodeUInt {
		return p.corrupt("module aux of %q: when opcode %d", moduleName(id), op)
	}
	when, err := p.readLength("module aux when")
	if err != nil {
		return err
	}
	if err := p.skipModuleOpcodes(); err != nil {
		return err
	}
	if err := p.h.ModuleAux(moduleOf(id), int(when)); err != nil {
		return p.handlerErr(err)
	}
	return nil
}

// skipModuleOpcodes reads RDB_MODULE_OPCODE_* annotated values up to
// RDB_MODULE_OPCODE_EOF (see rdbLoadCheckModuleValue in src/rdb.c).
func (p *Parser) skipModuleOpcodes() error {
	for {
		op, err := p.readLength("module opcode")
		if err != nil {
			return err
		}
		switch op {
		case moduleOpcodeEOF:
			return nil
		case moduleOpcodeSInt, moduleOpcodeUInt:
			_, err = p.readLength("module integer")
		case moduleOpcodeFloat:
			_, err = p.r.next(4)
		case moduleOpcodeDouble:
			_, err = p.r.next(8)
		case moduleOpcodeString:
			err = p.skipString("module string")
		default:
			return p.corrupt("unknown module opcode %d", op)
		}
		if err != nil {
			return err
		}
	}
}

// skipString consumes an RDB string without keeping it.
func (p *Parser) skipString(what string) error {
	n, enc, err := p.readLen()
	if err != nil {
		return err
	}
	if !enc {
		return p.r.skip(int64(min(n, 1<<62)))
	}
	switch n {
	case encInt8:
		return p.r.skip(1)
	case encInt16:
		return p.r.skip(2)
	case encInt32:
		return p.r.skip(4)
	case encLZF:
		clen, err := p.readLength(what)
		if err != nil {
			return err
		}
		if _, err := p.readLength(what); err != nil {
			return err
		}
		return p.r.skip(int64(min(clen, 1<<62)))
	}
	return p.corrupt("%s: unknown string encoding %d", what, n)
}
