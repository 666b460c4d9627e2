// Package link is the contract of remote help between the kiosk and the
// agent on the same machine (issue 17): the kiosk only dials out, so the
// agent listens on a Unix stream socket in its runtime directory and the
// kiosk connects to it. It has no cgo and imports only fleet/assist/wire
// (the frame format and control messages every hop shares), so both the
// kiosk and the agent import it. It is meant to move into kiosk/bus when
// remote help is wired in.
//
// # Transport
//
//	socket   a Unix stream socket the agent listens on, default
//	         DefaultSocket (/run/accesskiosk-agent/assist.sock), created
//	         0660 in a directory only the agent and the kiosk's group can
//	         enter; the agent checks every connection's peer credentials
//	         (SO_PEERCRED, from the kernel, not from anything the peer says)
//	         against the kiosk's user before reading a byte, and closes it
//	         otherwise
//	dial     the kiosk dials when it starts (when assist is configured) and
//	         again with backoff whenever the connection closes; one kiosk
//	         connection at a time: a newer authenticated one replaces the older
//	preamble the kiosk writes Preamble (8 bytes) first; the agent refuses
//	         anything else
//
// # Framing
//
// Every message in either direction is
//
//	u32 big-endian length of what follows (1 + payload)
//	u8  kind: KindControl (payload: one wire.Msg as JSON, ≤ wire.MaxControlBytes)
//	          KindFrame   (payload: one wire frame, ≤ wire.MaxFrameBytes, kiosk → agent only)
//	payload
//
// A length over the kind's bound, an unknown kind or a payload that does
// not decode ends the connection (the reader reports ErrProtocol): nothing
// is buffered beyond one message.
//
// # Messages
//
//	kiosk → agent  hello (Via code: the resident asked for help; the agent
//	               opens the fleet's WebSocket with it), consent (the
//	               resident's answer to an offer), frames, end (reason)
//	agent → kiosk  offer (staff are waiting: show the consent prompt),
//	               ack (cumulative: frames up to Seq were drawn), keyframe
//	               (frames in flight were dropped: forget them, send a key
//	               frame next), point (draw a ring), end (reason)
//
// # Back-pressure and ending
//
// The kiosk sends a frame only while fewer than wire.Window frames are
// unacknowledged, so no hop holds more than that; the agent drops (and asks
// for a key frame) rather than queue beyond it. Writes have a deadline
// (WriteTimeout): a peer that stops reading is cut off, not waited for.
// Either side closing the socket ends any share at once: the kiosk ends it
// with reason agent_gone, the agent tells the fleet kiosk_gone.
package link

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"accesskiosk/fleet/assist/wire"
)

// DefaultSocket is where the agent listens unless configured otherwise.
const DefaultSocket = "/run/accesskiosk-agent/assist.sock"

// Preamble is the first thing the kiosk writes: the link's name and version.
const Preamble = "AKLINK1\n"

// Message kinds.
const (
	KindControl = 1
	KindFrame   = 2
)

// WriteTimeout bounds one write: a peer that stops reading is cut off.
const WriteTimeout = 10 * time.Second

// ErrProtocol is wrapped by Read when the peer broke the framing.
var ErrProtocol = errors.New("assist link: protocol error")

// Packet is one message read: a control message or a frame.
type Packet struct {
	Msg   *wire.Msg // KindControl
	Frame []byte    // KindFrame
}

// Conn is one link connection. Read from one goroutine; writes are safe
// from any goroutine.
type Conn struct {
	c  net.Conn
	br *bufio.Reader

	wmu sync.Mutex
	hdr [5]byte

	closeOnce sync.Once
}

// NewConn wraps an established connection (after the preamble).
func NewConn(c net.Conn) *Conn {
	return &Conn{c: c, br: bufio.NewReaderSize(c, 64<<10)}
}

// Dial connects the kiosk to the agent's socket at path and writes the
// preamble. ctx bounds the dial.
func Dial(ctx context.Context, path string) (*Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to the agent's assist socket %s: %w", path, err)
	}
	c.SetWriteDeadline(time.Now().Add(WriteTimeout))
	if _, err := io.WriteString(c, Preamble); err != nil {
		c.Close()
		return nil, fmt.Errorf("greet the agent on %s: %w", path, err)
	}
	c.SetWriteDeadline(time.Time{})
	return NewConn(c), nil
}

// Close closes the connection; the peer sees it at once.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() { err = c.c.Close() })
	return err
}

// WriteMsg sends one control message.
func (c *Conn) WriteMsg(m *wire.Msg) error {
	b, err := m.Encode()
	if err != nil {
		return fmt.Errorf("assist link: send %s: %w", m.Type, err)
	}
	return c.write(KindControl, b)
}

// WriteFrame sends one encoded frame (wire format).
func (c *Conn) WriteFrame(b []byte) error {
	if len(b) > wire.MaxFrameBytes {
		return fmt.Errorf("assist link: frame of %d bytes is over %d", len(b), wire.MaxFrameBytes)
	}
	return c.write(KindFrame, b)
}

func (c *Conn) write(kind byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	binary.BigEndian.PutUint32(c.hdr[:4], uint32(1+len(payload)))
	c.hdr[4] = kind
	c.c.SetWriteDeadline(time.Now().Add(WriteTimeout))
	bufs := net.Buffers{c.hdr[:], payload}
	if _, err := bufs.WriteTo(c.c); err != nil {
		return fmt.Errorf("assist link: write: %w", err)
	}
	return nil
}

// Read returns the next message. A closed peer gives io.EOF; broken
// framing gives an error wrapping ErrProtocol (close the Conn then).
func (c *Conn) Read() (Packet, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Packet{}, io.EOF
		}
		return Packet{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 1 {
		return Packet{}, fmt.Errorf("%w: empty message", ErrProtocol)
	}
	size := int64(n) - 1
	switch hdr[4] {
	case KindControl:
		if size > wire.MaxControlBytes {
			return Packet{}, fmt.Errorf("%w: control message of %d bytes, at most %d", ErrProtocol, size, wire.MaxControlBytes)
		}
	case KindFrame:
		if size > wire.MaxFrameBytes {
			return Packet{}, fmt.Errorf("%w: frame of %d bytes, at most %d", ErrProtocol, size, wire.MaxFrameBytes)
		}
	default:
		return Packet{}, fmt.Errorf("%w: unknown kind %d", ErrProtocol, hdr[4])
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(c.br, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Packet{}, io.EOF
		}
		return Packet{}, err
	}
	if hdr[4] == KindFrame {
		return Packet{Frame: buf}, nil
	}
	m, err := wire.Decode(buf)
	if err != nil {
		return Packet{}, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return Packet{Msg: m}, nil
}
