package server

import (
	"errors"

	"github.com/vdr-project/vdr/projection"
	"github.com/vdr-project/vdr/rdbparse"
)

// Function libraries in RDB files (RDB_OPCODE_FUNCTION2): a full sync and
// a snapshot carry them; the projection keeps them (projection.Library).

// Function passes a library of the full sync's RDB to the loader.
func (h *linkHandler) Function(code []byte) error {
	if h.loader == nil {
		return errors.New("server: RDB function library outside a full sync")
	}
	return h.loader.Function(code)
}

// Function loads a library of a snapshot file.
func (l *rdbFileLoader) Function(code []byte) error { return l.ld.Function(code) }

// writeFunctions writes p's libraries, as Redis does, after the AUX fields
// and before the keys. A set not fully known (projection.ErrFunctionsIncomplete)
// is left out: the next full sync brings it back.
func writeFunctions(rw *rdbparse.Writer, p *projection.Projection) {
	libs, err := p.Libraries()
	if err != nil {
		return
	}
	for _, l := range libs {
		rw.Function([]byte(l.Code))
	}
}
