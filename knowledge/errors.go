package knowledge

import "errors"

// ErrInvalid marks input that fails validation (lab data, queries).
var ErrInvalid = errors.New("invalid input")
