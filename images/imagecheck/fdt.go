package imagecheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// DTNode is one node of a flattened device tree (a .dtb file): its path
// and the properties the checks read.
type DTNode struct {
	Path       string   // "/soc@107c000000/mmc@1000fff000"
	Compatible []string // the "compatible" strings, most specific first
	Status     string   // "okay", "disabled", or "" (absent: enabled)
	Model      string   // the root node's "model"
}

// Enabled reports whether the kernel probes the node: no status, or "okay"/"ok".
func (n DTNode) Enabled() bool {
	return n.Status == "" || n.Status == "okay" || n.Status == "ok"
}

// FDT token values and the header's magic (devicetree specification 0.4, 5.x).
const (
	fdtMagic     = 0xd00dfeed
	fdtBeginNode = 1
	fdtEndNode   = 2
	fdtProp      = 3
	fdtNop       = 4
	fdtEnd       = 9
)

// ParseFDT reads a flattened device tree and returns its nodes in order.
// It refuses anything malformed (bad magic, offsets outside the blob, an
// unterminated name) with an error naming the offset.
func ParseFDT(b []byte) ([]DTNode, error) {
	if len(b) < 40 {
		return nil, errors.New("fdt: shorter than its header")
	}
	be := binary.BigEndian
	if be.Uint32(b[0:]) != fdtMagic {
		return nil, fmt.Errorf("fdt: magic %#x, want %#x", be.Uint32(b[0:]), fdtMagic)
	}
	total := int(be.Uint32(b[4:]))
	offStruct, offStrings := int(be.Uint32(b[8:])), int(be.Uint32(b[12:]))
	sizeStrings, sizeStruct := int(be.Uint32(b[32:])), int(be.Uint32(b[36:]))
	if total > len(b) || offStruct < 0 || offStrings < 0 || sizeStruct < 0 || sizeStrings < 0 ||
		offStruct+sizeStruct > total || offStrings+sizeStrings > total {
		return nil, fmt.Errorf("fdt: blocks outside the %d-byte blob", len(b))
	}
	st := b[offStruct : offStruct+sizeStruct]
	strs := b[offStrings : offStrings+sizeStrings]
	cstr := func(buf []byte, at int) (string, error) {
		if at < 0 || at >= len(buf) {
			return "", fmt.Errorf("fdt: string at %d outside its block", at)
		}
		n := bytes.IndexByte(buf[at:], 0)
		if n < 0 {
			return "", fmt.Errorf("fdt: unterminated string at %d", at)
		}
		return string(buf[at : at+n]), nil
	}
	var nodes []DTNode
	var stack []int // indexes into nodes
	for p := 0; ; {
		if p+4 > len(st) {
			return nil, fmt.Errorf("fdt: structure ends at %d without FDT_END", p)
		}
		tok := be.Uint32(st[p:])
		p += 4
		switch tok {
		case fdtBeginNode:
			if len(stack) == 0 && len(nodes) > 0 {
				return nil, fmt.Errorf("fdt: a second root node at %d", p-4)
			}
			name, err := cstr(st, p)
			if err != nil {
				return nil, err
			}
			p += (len(name) + 1 + 3) &^ 3
			path := "/"
			if len(stack) > 0 {
				parent := nodes[stack[len(stack)-1]].Path
				path = strings.TrimSuffix(parent, "/") + "/" + name
			}
			nodes = append(nodes, DTNode{Path: path})
			stack = append(stack, len(nodes)-1)
		case fdtEndNode:
			if len(stack) == 0 {
				return nil, fmt.Errorf("fdt: FDT_END_NODE at %d outside any node", p-4)
			}
			stack = stack[:len(stack)-1]
		case fdtProp:
			if p+8 > len(st) || len(stack) == 0 {
				return nil, fmt.Errorf("fdt: property at %d cut short or outside any node", p-4)
			}
			n, nameOff := int(be.Uint32(st[p:])), int(be.Uint32(st[p+4:]))
			p += 8
			if n < 0 || p+n > len(st) {
				return nil, fmt.Errorf("fdt: property value at %d runs past the structure block", p)
			}
			val := st[p : p+n]
			p += (n + 3) &^ 3
			name, err := cstr(strs, nameOff)
			if err != nil {
				return nil, err
			}
			node := &nodes[stack[len(stack)-1]]
			switch name {
			case "compatible":
				for _, s := range strings.Split(strings.TrimRight(string(val), "\x00"), "\x00") {
					if s != "" {
						node.Compatible = append(node.Compatible, s)
					}
				}
			case "status":
				node.Status = strings.TrimRight(string(val), "\x00")
			case "model":
				node.Model = strings.TrimRight(string(val), "\x00")
			}
		case fdtNop:
		case fdtEnd:
			if len(stack) != 0 {
				return nil, errors.New("fdt: FDT_END inside a node")
			}
			if len(nodes) == 0 {
				return nil, errors.New("fdt: no root node")
			}
			return nodes, nil
		default:
			return nil, fmt.Errorf("fdt: unknown token %#x at %d", tok, p-4)
		}
	}
}
