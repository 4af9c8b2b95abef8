package projection

import "os"

// benchStringsOnly reports whether BENCH_MIX=strings asks the memory
// benchmarks for strings only.
func benchStringsOnly() bool { return os.Getenv("BENCH_MIX") == "strings" }
