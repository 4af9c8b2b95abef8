//go:build !linux

package server

import "errors"

// adviseHugePages is Linux-only (mincore, madvise MADV_COLLAPSE).
func adviseHugePages() (int64, error) {
	return 0, errors.New("server: huge pages are only advised on Linux")
}
