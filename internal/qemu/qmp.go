package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Event is an asynchronous QMP event.
type Event struct {
	Name      string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Timestamp struct {
		Seconds      int64 `json:"seconds"`
		Microseconds int64 `json:"microseconds"`
	} `json:"timestamp"`
}

// QMPError is an error reply from QEMU.
type QMPError struct {
	Class string `json:"class"`
	Desc  string `json:"desc"`
}

func (e *QMPError) Error() string { return fmt.Sprintf("qmp: %s: %s", e.Class, e.Desc) }

type qmpMessage struct {
	QMP    json.RawMessage `json:"QMP"`
	Return json.RawMessage `json:"return"`
	Error  *QMPError       `json:"error"`
	ID     string          `json:"id"`
	Event
}

type qmpReply struct {
	ret json.RawMessage
	err error
}

// QMP is a minimal QEMU Machine Protocol client: one command at a time,
// events delivered on a buffered channel (dropped when it is full).
type QMP struct {
	conn    net.Conn
	mu      sync.Mutex // serializes Execute
	nextID  atomic.Uint64
	pending sync.Map // id -> chan qmpReply
	events  chan Event
	closed  chan struct{}
	readErr error
}

// DialQMP connects to a QMP unix socket, reads the greeting and enters
// command mode.
func DialQMP(ctx context.Context, path string) (*QMP, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("qmp dial %s: %w", path, err)
	}
	q := &QMP{conn: conn, events: make(chan Event, 64), closed: make(chan struct{})}
	dec := json.NewDecoder(bufio.NewReader(conn))
	var greeting qmpMessage
	if dl, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(dl)
	}
	if err := dec.Decode(&greeting); err != nil || greeting.QMP == nil {
		conn.Close()
		return nil, fmt.Errorf("qmp %s: no greeting: %v", path, err)
	}
	conn.SetReadDeadline(time.Time{})
	go q.readLoop(dec)
	if _, err := q.Execute(ctx, "qmp_capabilities", nil); err != nil {
		q.Close()
		return nil, err
	}
	return q, nil
}

func (q *QMP) readLoop(dec *json.Decoder) {
	defer close(q.closed)
	for {
		var m qmpMessage
		if err := dec.Decode(&m); err != nil {
			q.readErr = err
			return
		}
		switch {
		case m.Event.Name != "":
			select {
			case q.events <- m.Event:
			default:
			}
		case m.ID != "":
			if ch, ok := q.pending.LoadAndDelete(m.ID); ok {
				r := qmpReply{ret: m.Return}
				if m.Error != nil {
					r.err = m.Error
				}
				ch.(chan qmpReply) <- r
			}
		}
	}
}

// Execute runs a QMP command and returns its "return" value.
func (q *QMP) Execute(ctx context.Context, command string, arguments any) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	id := fmt.Sprintf("kiln-%d", q.nextID.Add(1))
	ch := make(chan qmpReply, 1)
	q.pending.Store(id, ch)
	defer q.pending.Delete(id)
	req := map[string]any{"execute": command, "id": id}
	if arguments != nil {
		req["arguments"] = arguments
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	if _, err := q.conn.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("qmp %s: %w", command, r.err)
		}
		return r.ret, nil
	case <-q.closed:
		return nil, fmt.Errorf("qmp %s: connection closed: %w", command, errOrEOF(q.readErr))
	case <-ctx.Done():
		return nil, fmt.Errorf("qmp %s: %w", command, ctx.Err())
	}
}

func errOrEOF(err error) error {
	if err == nil {
		return errors.New("EOF")
	}
	return err
}

// Events returns the channel of asynchronous events.
func (q *QMP) Events() <-chan Event { return q.events }

// Close closes the connection.
func (q *QMP) Close() error { return q.conn.Close() }
