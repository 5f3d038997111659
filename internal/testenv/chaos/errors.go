package chaos

import "errors"

var (
	// ErrNoClickHouse means no clickhouse-server binary was found.
	ErrNoClickHouse = errors.New("clickhouse-server not installed")
	// ErrTimeout means a process or a sweep did not reach the expected
	// state in time.
	ErrTimeout = errors.New("timed out")
	// ErrUnknownScenario means a scenario number is not defined.
	ErrUnknownScenario = errors.New("unknown scenario")
)
