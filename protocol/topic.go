// SPDX-License-Identifier: EUPL-1.2

package protocol

import (
	"fmt"
	"regexp"
)

// ControlTopic is the pseudo-topic that carries membership records and
// retractions. Every member subscribes to it; users cannot.
const ControlTopic = "_federation"

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidTopic checks a topic channel name: a lowercase slug such as
// elderly-care, at most 64 characters (or the control topic).
func ValidTopic(t string) error {
	if t == ControlTopic {
		return nil
	}
	if len(t) == 0 || len(t) > 64 || !slugRE.MatchString(t) {
		return fmt.Errorf("%w: topic %q, want a lowercase slug such as elderly-care", ErrInvalid, t)
	}
	return nil
}

// ValidFederation checks a federation name (a slug, like topics).
func ValidFederation(f string) error {
	if len(f) == 0 || len(f) > 64 || !slugRE.MatchString(f) {
		return fmt.Errorf("%w: federation %q, want a lowercase slug such as improve", ErrInvalid, f)
	}
	return nil
}

// GossipVersion is the version of the gossip messages, part of every gossip
// topic's name so that nodes whose messages would not be understood do not
// share topics (they still exchange records by sync). Version 2: a message
// is one signed record without a gossipsub signature, sender or sequence
// number, identified by the record's hash (version 1 messages were signed
// by the sending peer as well).
const GossipVersion = 2

// GossipTopic maps a topic channel to its gossipsub topic, scoped by federation.
func GossipTopic(federation, topic string) string {
	return fmt.Sprintf("/livinglab/%d/%s/%s", GossipVersion, federation, topic)
}
