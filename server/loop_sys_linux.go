//go:build linux

package server

import (
	"syscall"
	"unsafe"
)

// The loop's hot system calls go through RawSyscall: they never block (the
// fds are non-blocking) or, for epoll_wait, block only in a loop goroutine
// that holds nothing another goroutine waits for. syscall.Syscall brackets
// each call with entersyscall and exitsyscall, and a blocking one lets
// sysmon hand the loop's P to another thread, so the loop hops between
// threads and sysmon wakes every 20µs-1ms to check on it: on 2 cores that
// CPU is taken from the clients the loop serves. A signal (GC preemption,
// sysmon's 10ms preemption) interrupts epoll_wait with EINTR, so the
// runtime can still stop the loop goroutine.

func rawRead(fd int, b []byte) (int, syscall.Errno)  { return rawIO(syscall.SYS_READ, fd, b) }
func rawWrite(fd int, b []byte) (int, syscall.Errno) { return rawIO(syscall.SYS_WRITE, fd, b) }

// rawIO is read(2) or write(2) of b on fd.
func rawIO(trap uintptr, fd int, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	n, _, e := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return -1, e
	}
	return int(n), 0
}

// epollWait is epoll_pwait with no signal mask (epoll_wait is not on every
// architecture).
func epollWait(epfd int, events []syscall.EpollEvent, msec int) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(msec), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}
