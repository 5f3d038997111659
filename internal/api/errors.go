package api

import "errors"

// ErrNoStore is returned by New when Config.Store is nil.
var ErrNoStore = errors.New("api: Config.Store is required")
