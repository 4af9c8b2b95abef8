package rdbparse

import (
	"bufio"
	"fmt"
	"io"
)

// NewWriterVersion is NewWriter declaring RDB version version (10 to
// maxRedisVersion) instead of WriterVersion: a file is labelled with the
// version of the server whose data it holds (12 when it may hold Redis
// 7.4's RDB_TYPE_HASH_METADATA records), so that only servers able to
// hold such data load it. What Writer writes is the same in every
// version.
func NewWriterVersion(w io.Writer, version int) *Writer {
	if version < WriterVersion || version > maxRedisVersion {
		version = WriterVersion
	}
	wr := &Writer{bw: bufio.NewWriterSize(w, 64<<10)}
	wr.raw([]byte(fmt.Sprintf("REDIS%04d", version)))
	return wr
}
