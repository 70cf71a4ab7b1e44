//go:build !linux

package main

import (
	"errors"
	"syscall"
)

func raiseNoFile() (uint64, error) { return 0, errors.New("not supported on this OS") }

func nofile() uint64 { return 0 }

func bindNoPort(_, _ string, _ syscall.RawConn) error { return nil }

func cpuSeconds() float64 { return 0 }

func peakRSSMB() float64 { return 0 }
