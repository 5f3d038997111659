package testenv

import "errors"

var (
	// ErrTimeout means a process did not reach the expected state in time.
	ErrTimeout = errors.New("timed out")
	// ErrExited means a process exited before it was ready.
	ErrExited = errors.New("process exited")
	// ErrNoFreePort means no port was free for both TCP and UDP.
	ErrNoFreePort = errors.New("no port free for both TCP and UDP")
)
