//go:build linux

package server

import (
	"syscall"
	"unsafe"
)

// The loop's hot system calls go through RawSyscall: reads and writes of
// non-blocking fds and epoll_wait polls never block. syscall.Syscall
// brackets each call with entersyscall and exitsyscall, and sysmon keeps
// checking on goroutines in system calls (every 20µs while it finds
// some), which on 2 cores takes CPU from the clients the loop serves.
// Only the epoll_wait that may sleep is a regular system call.

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
// architecture). With msec 0 (a poll) it is a raw call; a call that may
// sleep goes through syscall.Syscall6, so that while the loop sleeps its
// P runs other goroutines (the applier, the replication reader, the GC).
func epollWait(epfd int, events []syscall.EpollEvent, msec int) (int, syscall.Errno) {
	var n uintptr
	var e syscall.Errno
	if msec == 0 {
		n, _, e = syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	} else {
		n, _, e = syscall.Syscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(msec), 0, 0)
	}
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}
