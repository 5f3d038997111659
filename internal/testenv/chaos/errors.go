package chaos

import (
	"errors"

	"github.com/ptrsweep/ptrsweep/internal/testenv"
)

var (
	// ErrNoClickHouse means no clickhouse-server binary was found.
	ErrNoClickHouse = errors.New("clickhouse-server not installed")
	// ErrTimeout means a process or a sweep did not reach the expected
	// state in time.
	ErrTimeout = testenv.ErrTimeout
	// ErrUnknownScenario means a scenario number is not defined.
	ErrUnknownScenario = errors.New("unknown scenario")
)
