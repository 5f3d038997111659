package api

import "errors"

// ErrNoStore is returned by New when Config.Store is nil.
var ErrNoStore = errors.New("api: Config.Store is required")

// errTooManyRows stops a read whose result passed Config.MaxResultRows;
// the handler answers 422 naming the bound.
var errTooManyRows = errors.New("result larger than the server's bound")
