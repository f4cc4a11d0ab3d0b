// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"net"
	"os"
)

// NotifySystemd sends a state line ("READY=1", "STOPPING=1") to systemd
// when the daemon runs as a Type=notify unit; elsewhere it does nothing.
func NotifySystemd(state string) {
	sock := os.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		return
	}
	if sock[0] == '@' {
		sock = "\x00" + sock[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return
	}
	defer c.Close()
	c.Write([]byte(state))
}

// LocalIdentity reads a node's identity from its home, without a daemon.
func LocalIdentity(h Home) (Identity, error) {
	cfg, err := LoadConfig(h.Config())
	if err != nil {
		return Identity{}, err
	}
	_, id, err := h.LoadIdentity()
	if err != nil {
		return Identity{}, err
	}
	return Identity{PeerID: id.String(), Region: cfg.Region, Country: cfg.Country, Federation: cfg.Federation.Name, Addrs: nonNil(cfg.Listen)}, nil
}
