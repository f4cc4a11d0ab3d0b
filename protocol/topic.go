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

// GossipTopic maps a topic channel to its gossipsub topic, scoped by federation.
func GossipTopic(federation, topic string) string {
	return "/livinglab/1/" + federation + "/" + topic
}
