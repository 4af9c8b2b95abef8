//go:build !linux

package server

import (
	"errors"
	"net"
	"sync/atomic"
)

// Outside Linux there is no event loop: every connection has its own
// goroutine (Options.EventLoops is ignored).
const loopsSupported = false

var errNoLoops = errors.New("server: event loops need Linux")

type evState struct{ unsent atomic.Int64 }

type listenFD struct{ fd int }

type loop struct{}

func (s *Server) startLoops([]listenFD) error                 { return errNoLoops }
func (s *Server) wakeLoops(bool)                              {}
func (c *conn) loopPush([]byte) bool                          { return false }
func (c *conn) loopKill()                                     {}
func closeListenFDs([]listenFD)                               {}
func listenUnixFD(string) (listenFD, error)                   { return listenFD{}, errNoLoops }
func listenTCPFD(string, int) (listenFD, *net.TCPAddr, error) { return listenFD{}, nil, errNoLoops }
