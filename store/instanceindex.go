package store

import (
	"bytes"
	"encoding/binary"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// bucketInstanceBlocks indexes events by instance: key block number (event
// id / blockSize) then instance id, value a bitmap of the block's ids that
// belong to the instance. New events fall in the newest block, whatever
// their instance, so a commit dirties one index page; schema 1's index,
// keyed instance first, dirtied one page per instance in the commit.
var bucketInstanceBlocks = []byte("instance_blocks")

// bucketEventsByInV1 is schema 1's index (instance, id → nil), migrated on
// open.
var bucketEventsByInV1 = []byte("events_by_instance")

func init() {
	allBuckets = append(allBuckets, bucketInstanceBlocks)
}

const (
	blockShift = 8
	blockSize  = 1 << blockShift
	blockBytes = blockSize / 8
)

func blockKey(block uint64, instanceID int64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, block)
	binary.BigEndian.PutUint64(k[8:], uint64(instanceID))
	return k
}

// markInstance sets (or clears) event seq's bit in its instance's block.
func markInstance(b *bolt.Bucket, instanceID int64, seq uint64, set bool) error {
	// Blocks only grow at the end (mid-block inserts are new instances in
	// the newest block), so pages can be filled nearly full.
	b.FillPercent = 0.9
	k := blockKey(seq>>blockShift, instanceID)
	v := make([]byte, blockBytes)
	copy(v, b.Get(k))
	bit := seq & (blockSize - 1)
	if set {
		v[bit/8] |= 1 << (bit % 8)
		return b.Put(k, v)
	}
	v[bit/8] &^= 1 << (bit % 8)
	if bytes.Equal(v, make([]byte, blockBytes)) {
		return b.Delete(k)
	}
	return b.Put(k, v)
}

// instanceSeqs walks one instance's event ids newest first, from top down,
// through the blocks that hold any (one Get per block). probe is called for
// each block looked at; when it returns false the walk stops there.
type instanceSeqs struct {
	b          *bolt.Bucket
	instanceID int64
	block      uint64 // the block being read
	low        uint64 // the lowest block to look at
	bits       []byte // its bitmap (nil: look up block)
	bit        int    // next bit to test, downwards
	done       bool
}

func newInstanceSeqs(b *bolt.Bucket, instanceID int64, top, bottom uint64) *instanceSeqs {
	if top < bottom {
		return &instanceSeqs{done: true}
	}
	return &instanceSeqs{b: b, instanceID: instanceID, block: top >> blockShift, low: bottom >> blockShift, bit: int(top & (blockSize - 1))}
}

// next returns the next id, or ok false at the end or when probe refused
// to look at another block; walked is then the lowest id fully walked (the
// start of the block above: the first block is never refused).
func (w *instanceSeqs) next(probe func() bool) (seq uint64, ok bool, walked uint64) {
	for !w.done {
		if w.bits == nil {
			if !probe() {
				return 0, false, (w.block + 1) << blockShift
			}
			w.bits = w.b.Get(blockKey(w.block, w.instanceID))
			if w.bits == nil {
				w.bits = []byte{} // empty: nothing of this instance here
			}
		}
		for ; w.bit >= 0; w.bit-- {
			if i := w.bit / 8; i < len(w.bits) && w.bits[i]&(1<<(w.bit%8)) != 0 {
				seq := w.block<<blockShift | uint64(w.bit)
				w.bit--
				return seq, true, 0
			}
		}
		if w.block <= w.low {
			w.done = true
			break
		}
		w.block--
		w.bits, w.bit = nil, blockSize-1
	}
	return 0, false, 0
}

// migrateInstanceIndex moves a schema 1 instance index into blocks, in the
// upgrade's transaction.
func migrateInstanceIndex(tx *bolt.Tx) error {
	old := tx.Bucket(bucketEventsByInV1)
	if old == nil {
		return nil
	}
	blocks := map[string][]byte{}
	err := old.ForEach(func(k, _ []byte) error {
		if len(k) != 16 {
			return nil
		}
		inst, seq := int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:])
		bk := string(blockKey(seq>>blockShift, inst))
		v := blocks[bk]
		if v == nil {
			v = make([]byte, blockBytes)
			blocks[bk] = v
		}
		bit := seq & (blockSize - 1)
		v[bit/8] |= 1 << (bit % 8)
		return nil
	})
	if err != nil {
		return err
	}
	ib := tx.Bucket(bucketInstanceBlocks)
	ib.FillPercent = 0.9
	for _, k := range slices.Sorted(maps.Keys(blocks)) {
		if err := ib.Put([]byte(k), blocks[k]); err != nil {
			return err
		}
	}
	return tx.DeleteBucket(bucketEventsByInV1)
}
