// SPDX-License-Identifier: EUPL-1.2

package sim

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
	"github.com/livinglab/livinglab/protocol"
)

// Vocabulary for generated practices: plausible living-lab prose with
// enough variety for the search index to do real work.
var (
	adjectives = []string{"community", "volunteer", "digital", "village", "mobile", "shared", "intergenerational",
		"co-designed", "low-threshold", "peer-led", "seasonal", "remote", "neighbourhood", "cross-border", "municipal"}
	services = []string{"telecare", "transport", "meal delivery", "health coaching", "home repairs", "library service",
		"energy advice", "broadband access", "childcare", "physiotherapy", "social prescribing", "job matching",
		"language cafe", "grocery pickup", "fall prevention", "mental health support", "ride sharing"}
	groups = []string{"older residents", "young families", "newcomers", "farmers", "carers", "students",
		"small businesses", "people living alone", "seasonal workers", "schoolchildren", "volunteers"}
	places = []string{"sparsely populated villages", "island communities", "mountain valleys", "coastal towns",
		"border municipalities", "forest districts", "small towns", "fishing villages", "archipelago parishes"}
	verbs = []string{"co-designed", "piloted", "tested", "scaled", "evaluated", "adapted", "introduced", "organised"}
	nouns = []string{"workshops", "a booking app", "a volunteer pool", "a shared vehicle", "a help desk", "video visits",
		"weekly meetings", "a mobile unit", "a resource map", "a peer network", "training courses", "a pilot budget",
		"feedback rounds", "a steering group", "open data", "a local cooperative", "evaluation interviews"}
	results = []string{"waiting times fell", "loneliness scores improved", "costs per visit dropped",
		"participation doubled", "trips by private car decreased", "satisfaction rose", "new volunteers joined",
		"the municipality adopted the model", "service hours were extended", "fewer emergency calls were made"}
	languages = []string{"en", "en", "en", "en", "fi", "sv", "no", "da", "is", "ga"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func sentence(r *rand.Rand) string {
	return fmt.Sprintf("The %s %s team %s %s with %s in %s, and %s.", pick(r, adjectives), pick(r, services),
		pick(r, verbs), pick(r, nouns), pick(r, groups), pick(r, places), pick(r, results))
}

func paragraph(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(sentence(r))
	}
	return b.String()
}

// GenPractice returns a plausible practice; k makes its title unique.
func GenPractice(r *rand.Rand, k int) protocol.Practice {
	title := fmt.Sprintf("%s %s for %s in %s (%d)", capitalise(pick(r, adjectives)), pick(r, services), pick(r, groups),
		pick(r, places), k)
	return protocol.Practice{
		Title:    title,
		Summary:  paragraph(r, 2),
		Problem:  paragraph(r, 1+r.IntN(2)),
		Approach: paragraph(r, 2+r.IntN(2)),
		Results:  paragraph(r, 1+r.IntN(2)),
		Stage:    1 + r.IntN(5),
		Lessons:  []string{sentence(r), sentence(r)},
		Language: pick(r, languages),
		Period:   "2024-2025",
	}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Author signs records for one member outside a running node: records are
// sealed exactly as the node seals its own, with a sequence chain.
type Author struct {
	Key     crypto.PrivKey
	ID      peer.ID
	Fed     string
	Region  string
	Country string
	Seq     uint64
	Prev    string
}

// HomeAuthor is NewAuthor for the federation's member on home, in the
// region and country of its configuration.
func HomeAuthor(home node.Home, st *knowledge.Store) (*Author, error) {
	cfg, err := node.LoadConfig(home.Config())
	if err != nil {
		return nil, err
	}
	return NewAuthor(home, Federation, cfg.Region, cfg.Country, st)
}

// NewAuthor loads a home's key and continues its own sequence from store.
func NewAuthor(home node.Home, fed, region, country string, st *knowledge.Store) (*Author, error) {
	key, id, err := home.LoadIdentity()
	if err != nil {
		return nil, err
	}
	a := &Author{Key: key, ID: id, Fed: fed, Region: region, Country: country}
	if st != nil {
		if a.Seq, a.Prev, err = st.LastOwn(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Next seals the author's next record around p.
func (a *Author) Next(p protocol.Payload, topics []string, created time.Time) (*protocol.Signed, error) {
	r := protocol.Record{Federation: a.Fed, Author: a.ID.String(), Seq: a.Seq + 1, Prev: a.Prev,
		Created: created.UnixMilli(), Topics: topics}
	if err := r.SetPayload(p); err != nil {
		return nil, err
	}
	rec, err := protocol.Seal(r, a.Key)
	if err != nil {
		return nil, err
	}
	a.Seq++
	a.Prev = rec.CID.String()
	return rec, nil
}

// Practice fills the fields the node would set and seals a practice.
func (a *Author) Practice(p protocol.Practice, topics []string, created time.Time) (*protocol.Signed, error) {
	p.Region, p.Country, p.Version = a.Region, a.Country, 1
	if p.Licence == "" {
		p.Licence = protocol.DefaultLicence
	}
	return a.Next(&p, topics, created)
}

// SealPractices seals n generated practices by a, one a second up to now
// (oldest first). The author's sequence chain is kept: record i has Seq
// a.Seq+1+i and points to record i-1.
func SealPractices(a *Author, n int, topics func(i int) []string, seed uint64) ([]*protocol.Signed, error) {
	r := rand.New(rand.NewPCG(seed, 7))
	ps := make([]protocol.Practice, n)
	for i := range ps {
		ps[i] = GenPractice(r, int(seed%1000)*1_000_000+i)
	}
	base := time.Now().Add(-time.Duration(n) * time.Second)
	out := make([]*protocol.Signed, 0, n)
	for i := range ps {
		rec, err := a.Practice(ps[i], topics(i), base.Add(time.Duration(i)*time.Second))
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// PutAll stores records in parallel (Badger commits concurrent
// transactions together). With own set, the record with the highest
// sequence number is stored last with PutOwn so the store knows the
// author's last sequence number.
func PutAll(st *knowledge.Store, recs []*protocol.Signed, own bool) error {
	if len(recs) == 0 {
		return nil
	}
	last := len(recs) - 1
	body := recs
	if own {
		body = recs[:last]
	}
	workers := max(4, 2*runtime.NumCPU())
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	ch := make(chan *protocol.Signed, 256)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rec := range ch {
				if _, err := st.Put(rec); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for _, rec := range body {
		ch <- rec
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	if own {
		if _, err := st.PutOwn(recs[last]); err != nil {
			return err
		}
	}
	return nil
}

// RawBytes is the total size of the records' envelopes.
func RawBytes(recs []*protocol.Signed) int64 {
	var n int64
	for _, r := range recs {
		n += int64(len(r.Raw))
	}
	return n
}
