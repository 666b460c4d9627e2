package assist

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"

	"accesskiosk/fleet/assist/wire"
)

// peer is one WebSocket (a device's or a viewer's) with a writer goroutine
// fed by bounded channels: nothing the hub does ever waits on a slow
// client, and at most wire.Window frames and ctlQueue control messages
// wait for one.
type peer struct {
	ws     *websocket.Conn
	ctl    chan []byte
	frames chan []byte
	quit   chan struct{}
	done   chan struct{} // closed when the writer has finished

	once sync.Once
	last []byte // the final message, written before closing

	// onFail is called (once, from the writer) when a write or ping fails.
	onFail func()
}

const (
	ctlQueue     = 32
	writeTimeout = 10 * time.Second
)

func newPeer(ws *websocket.Conn, frames int, onFail func()) *peer {
	p := &peer{ws: ws, ctl: make(chan []byte, ctlQueue), quit: make(chan struct{}), done: make(chan struct{}), onFail: onFail}
	if frames > 0 {
		p.frames = make(chan []byte, frames)
	}
	return p
}

// send queues a control message; false when the queue is full (dropped).
func (p *peer) send(m *wire.Msg) bool {
	b, err := m.Encode()
	if err != nil {
		return false
	}
	select {
	case p.ctl <- b:
		return true
	default:
		return false
	}
}

// frame queues a frame; false when wire.Window frames are waiting already.
func (p *peer) frame(b []byte) bool {
	select {
	case p.frames <- b:
		return true
	default:
		return false
	}
}

// end writes m (if not nil) after nothing else and closes the WebSocket.
func (p *peer) end(m *wire.Msg) {
	p.once.Do(func() {
		if m != nil {
			p.last, _ = m.Encode()
		}
		close(p.quit)
	})
}

// run writes until end or a failure; a goroutine beside it pings every
// ping, so a ping waiting for its pong never holds up a message (an end
// must reach the console at once).
func (p *peer) run(ping time.Duration) {
	defer close(p.done)
	var failOnce sync.Once
	fail := func() {
		failOnce.Do(func() {
			p.ws.CloseNow()
			if p.onFail != nil {
				p.onFail()
			}
		})
	}
	stopPing := make(chan struct{})
	defer close(stopPing)
	go func() {
		t := time.NewTicker(ping)
		defer t.Stop()
		for {
			select {
			case <-stopPing:
				return
			case <-p.quit:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), ping)
				err := p.ws.Ping(ctx)
				cancel()
				if err != nil {
					select {
					case <-p.quit: // ending anyway
					case <-stopPing:
					default:
						fail()
					}
					return
				}
			}
		}
	}()
	write := func(typ websocket.MessageType, b []byte) bool {
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		return p.ws.Write(ctx, typ, b) == nil
	}
	for {
		select {
		case <-p.quit:
			if p.last != nil {
				write(websocket.MessageText, p.last)
			}
			// Close waits (bounded by the library) for the peer's close
			// frame; whatever it says, the connection is gone after.
			p.ws.Close(websocket.StatusNormalClosure, "")
			return
		case b := <-p.ctl:
			if !write(websocket.MessageText, b) {
				fail()
				return
			}
		case b := <-p.frames:
			if !write(websocket.MessageBinary, b) {
				fail()
				return
			}
		}
	}
}
