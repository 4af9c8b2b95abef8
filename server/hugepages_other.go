//go:build !linux

package server

import "errors"

// adviseHugePages is Linux-only (madvise MADV_HUGEPAGE).
func adviseHugePages() (int64, error) {
	return 0, errors.New("server: huge pages are only advised on Linux")
}
