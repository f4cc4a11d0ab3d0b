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
// share topics (they still exchange records by sync). Version 3: a message
// is one signed record (either record version) and nothing else: no
// gossipsub signature, key, sender (from) or sequence number (seqno), as
// gossipsub's StrictNoSign policy requires; its ID is the SHA-256 of the
// topic name, a zero byte and the record. Version 2 had the same data and
// IDs, but the sending peer's ID and a sequence number travelled with
// every message (version 1 messages were signed by the sending peer too).
const GossipVersion = 3

// LegacyGossipVersion is the previous gossip version, which a node also
// speaks while some member has not announced [WireProtocol].
const LegacyGossipVersion = 2

// WireProtocol is the libp2p protocol ID by which a node announces (in
// identify) that it reads record format 2 and speaks gossip version 3. It
// carries no data: a stream opened on it is closed at once.
const WireProtocol = "/livinglab/wire/3"

// GossipTopic maps a topic channel to its gossipsub topic, scoped by federation.
func GossipTopic(federation, topic string) string {
	return GossipTopicVersion(GossipVersion, federation, topic)
}

// GossipTopicVersion is GossipTopic for a given gossip version.
func GossipTopicVersion(version int, federation, topic string) string {
	return fmt.Sprintf("/livinglab/%d/%s/%s", version, federation, topic)
}
