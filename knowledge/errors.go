// SPDX-License-Identifier: EUPL-1.2

package knowledge

import "errors"

// ErrInvalid marks input that fails validation (lab data, queries).
var ErrInvalid = errors.New("invalid input")

// ErrDamaged marks a stored record whose bytes no longer match its CID or
// no longer decode: damage on disk or in a restored archive. Such a record
// is never served, indexed or relayed; a correct copy from a member
// repairs it (see [Store.Repair]).
var ErrDamaged = errors.New("damaged record")
