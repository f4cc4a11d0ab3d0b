// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"fmt"
	"math/rand"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// GenerateCorpus returns n synthetic but realistic records for benchmarks
// and load tests: practices and lessons in English, Finnish, Swedish,
// Norwegian (Bokmål and Nynorsk), Danish, Icelandic and Irish, with topic
// vocabulary in each language, inflected forms, Zipf-distributed word
// frequencies, regions and countries that match the language, stages and
// dates from 2015 to 2025. The same (n, seed) always gives the same
// records.
func GenerateCorpus(n int, seed int64) []Doc {
	g := newGenerator(seed)
	out := make([]Doc, n)
	for i := range out {
		out[i] = g.doc()
	}
	return out
}

// CorpusTopics are the topics GenerateCorpus assigns, most common first.
var CorpusTopics = []string{
	"elderly-care", "digital-services", "participation", "transport", "health",
	"planning", "youth", "housing", "energy", "culture",
}

var corpusTopicWeights = []float64{18, 14, 12, 10, 10, 9, 8, 7, 7, 5}

type corpusLang struct {
	code     string // Doc.Language
	weight   float64
	country  []string
	regions  map[string][]string // country -> regions
	function []string
	general  [][]string            // entries, each a list of forms (first = base form)
	topics   map[string][][]string // topic -> entries
	sections []string              // body section labels
	inflect  func(r *rand.Rand, base string) string
}

// parseEntries reads "a, b/b2/b3, c d" into entries; "/" separates forms of
// one entry.
func parseEntries(s string) [][]string {
	var out [][]string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		out = append(out, strings.Split(e, "/"))
	}
	return out
}

func parseTopics(m map[string]string) map[string][][]string {
	out := make(map[string][][]string, len(m))
	for k, v := range m {
		out[k] = parseEntries(v)
	}
	return out
}

// inflectLast applies f to the last word of a multi-word entry.
func inflectLast(base string, f func(string) string) string {
	i := strings.LastIndexByte(base, ' ')
	return base[:i+1] + f(base[i+1:])
}

func endsWithVowel(w string) bool {
	r, _ := utf8.DecodeLastRuneInString(w)
	return strings.ContainsRune("aeiouyåäöæøáéíóúý", r)
}

func pickString(r *rand.Rand, xs []string) string { return xs[r.Intn(len(xs))] }

// Scandinavian definite/plural endings.
func scandiInflect(def, plural, defPlural []string) func(*rand.Rand, string) string {
	return func(r *rand.Rand, base string) string {
		return inflectLast(base, func(w string) string {
			v := 0
			if endsWithVowel(w) {
				v = 1
			}
			switch x := r.Intn(10); {
			case x < 6:
				return w
			case x < 8:
				return w + def[v]
			case x < 9:
				return w + plural[v]
			default:
				return w + defPlural[v]
			}
		})
	}
}

func finnishInflect(r *rand.Rand, base string) string {
	return inflectLast(base, func(w string) string {
		if !endsWithVowel(w) {
			if r.Intn(10) < 3 {
				if strings.ContainsAny(w, "aou") {
					return w + "ta"
				}
				return w + "tä"
			}
			return w
		}
		back := strings.ContainsAny(w, "aou")
		sfx := []string{"", "", "", "n", "n", "t", "ssa", "lla", "sta", "a", "ille", "ksi"}
		s := sfx[r.Intn(len(sfx))]
		if !back {
			s = strings.NewReplacer("a", "ä").Replace(s)
		}
		return w + s
	})
}

func englishInflect(r *rand.Rand, base string) string {
	return inflectLast(base, func(w string) string {
		if r.Intn(4) == 0 && !strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "y") {
			return w + "s"
		}
		return w
	})
}

func suffixInflect(p int, sfx ...string) func(*rand.Rand, string) string {
	return func(r *rand.Rand, base string) string {
		if r.Intn(100) >= p {
			return base
		}
		return inflectLast(base, func(w string) string { return w + pickString(r, sfx) })
	}
}

var corpusLangs = []*corpusLang{
	{
		code: "en", weight: 30, country: []string{"IE", "IE", "UK"},
		regions:  map[string][]string{"IE": {"Donegal", "Galway", "Mayo", "Kerry"}, "UK": {"Derry & Strabane", "Highland", "Shetland", "Orkney"}},
		function: strings.Split("the,of,and,to,in,a,for,with,on,by,is,was,were,are,that,this,from,as,at,it,their,they,we,our,be,have,has,not,more,also,which,who,all,after,before,into,than,each,new,local", ","),
		general: parseEntries(`service, community, project, region, municipality, council, resident, workshop, pilot, stakeholder,
			volunteer, local champions, co-production, living lab, public services, approach, result, evidence, budget, staff,
			partner, network, evaluation, feedback, user, citizen, organisation, process, stage, method, training, support,
			meeting, survey, interview, outcome, challenge, social enterprise, civil servants, engagement, rural, remote,
			island, village, county`),
		topics: parseTopics(map[string]string{
			"elderly-care":     "older people, telecare, home care, carer, dementia, loneliness, falls, sensor, alarm, care home, nursing, ageing, independence",
			"transport":        "bus, community transport, timetable, driver, route, booking, demand responsive transport, ferry, journey, passenger, taxi",
			"health":           "health, primary care, GP, clinic, mental health, telehealth, prescription, patient, wellbeing, hospital, nurse",
			"housing":          "housing, tenant, rent, insulation, social housing, landlord, homelessness, repairs, heating, dwelling",
			"digital-services": "broadband, digital services, app, website, online, digital skills, platform, data, smartphone, portal, e-services",
			"youth":            "young people, school, youth, students, apprenticeship, youth council, teenagers, sport, club, careers",
			"culture":          "culture, library, museum, heritage, festival, music, arts, language, theatre, crafts",
			"energy":           "energy, heat pump, solar, wind, fuel poverty, retrofit, efficiency, electricity, bills, district heating",
			"participation":    "participation, consultation, participatory budgeting, deliberation, dialogue, vote, trust, inclusion, citizen panel, co-design",
			"planning":         "planning, local development plan, pre-planning, zoning, permit, application, map, land, green space, infrastructure",
		}),
		sections: []string{"Problem", "Approach", "Results", "Resources", "Transferability"},
		inflect:  englishInflect,
	},
	{
		code: "fi", weight: 15, country: []string{"FI"},
		regions:  map[string][]string{"FI": {"North Karelia", "Kainuu", "Lapland", "North Ostrobothnia", "South Savo"}},
		function: strings.Split("ja,on,ei,se,että,oli,ovat,myös,kun,joka,mutta,tai,sekä,niin,kuin,jo,vain,he,me,ne,tämä,voi,mukaan,kanssa,jälkeen,ennen,hyvin,paljon,jotka,sitten", ","),
		general: parseEntries(`palvelu, kunta, asukas, kylä, hanke, alue, työpaja, kokeilu, sidosryhmä, vapaaehtoinen,
			paikallinen toimija, yhteiskehittäminen, elävä laboratorio, julkiset palvelut, toimintamalli, tulos, arviointi,
			budjetti, henkilöstö, kumppani, verkosto, palaute, käyttäjä, kansalainen, järjestö, prosessi, vaihe, menetelmä,
			koulutus, tuki, kokous, kysely, haastattelu, haaste, maaseutu, syrjäseutu, saaristo, maakunta, hyvinvointialue`),
		topics: parseTopics(map[string]string{
			"elderly-care":     "ikääntynyt/ikääntyneiden/ikääntyneet/ikääntyneille/ikääntyneitä, ikääntyneiden palvelut, kotihoito/kotihoidon/kotihoidossa, omaishoitaja, muistisairaus, yksinäisyys, kaatuminen, turvaranneke, etähoiva, hoivakoti, vanhustenhoito/vanhustenhoidon",
			"transport":        "bussi, kuljetus, aikataulu, kuljettaja, reitti, kutsutaksi, kyläkuljetus, lautta, matka, matkustaja, taksi",
			"health":           "terveys, terveyskeskus, lääkäri, mielenterveys, etävastaanotto, resepti, potilas, hyvinvointi, sairaala, hoitaja",
			"housing":          "asuminen, vuokralainen, vuokra, eristys, vuokratalo, asunnottomuus, korjaus, lämmitys, asunto, taloyhtiö",
			"digital-services": "laajakaista, digitaaliset palvelut, sovellus, verkkosivu, sähköinen asiointi, digitaidot, alusta, tieto, älypuhelin, digituki",
			"youth":            "nuori/nuoret/nuorten/nuorille, koulu, nuoriso, opiskelija, oppisopimus, nuorisovaltuusto, harrastus, urheilu, kerho, ura",
			"culture":          "kulttuuri, kirjasto, museo, perinne, festivaali, musiikki, taide, kieli, teatteri, käsityö",
			"energy":           "energia, lämpöpumppu, aurinkopaneeli, tuulivoima, energiaköyhyys, remontti, energiatehokkuus, sähkö, lasku, kaukolämpö",
			"participation":    "osallistuminen, kuuleminen, osallistuva budjetointi, vuoropuhelu, äänestys, luottamus, osallisuus, asukasraati, yhteissuunnittelu",
			"planning":         "kaavoitus, yleiskaava, rakennuslupa, maankäyttö, kartta, hakemus, viheralue, infrastruktuuri, asemakaava",
		}),
		sections: []string{"Ongelma", "Toteutus", "Tulokset", "Resurssit", "Siirrettävyys"},
		inflect:  finnishInflect,
	},
	{
		code: "sv", weight: 15, country: []string{"SE"},
		regions:  map[string][]string{"SE": {"Västernorrland", "Norrbotten", "Jämtland", "Västerbotten"}},
		function: strings.Split("och,i,att,det,som,en,på,är,av,för,med,till,den,har,de,inte,om,ett,var,vi,men,från,kan,så,alla,efter,nya,också,mer,där", ","),
		general: parseEntries(`tjänst, kommun, invånare, by, projekt, region, workshop, pilot, intressent, volontär,
			lokala förändringsledare, samskapande, levande labb, offentliga tjänster, arbetssätt, resultat, utvärdering,
			budget, personal, partner, nätverk, återkoppling, användare, medborgare, organisation, process, steg, metod,
			utbildning, stöd, möte, enkät, intervju, utmaning, landsbygd, glesbygd, skärgård, län`),
		topics: parseTopics(map[string]string{
			"elderly-care":     "äldreomsorg/äldreomsorgen, äldre personer, hemtjänst/hemtjänsten, anhörigvårdare, demens, ensamhet, fallolyckor, trygghetslarm, digital tillsyn, särskilt boende, omsorg",
			"transport":        "buss/bussen/bussar, kollektivtrafik/kollektivtrafiken, tidtabell, förare, linje, anropsstyrd trafik, färja, resa/resan/resor, resenär/resenärer, taxi, skolskjuts",
			"health":           "hälsa, vårdcentral, läkare, psykisk hälsa, distansvård, recept, patient, välbefinnande, sjukhus, sjuksköterska",
			"housing":          "bostad/bostäder, hyresgäst, hyra, isolering, hyresrätt, hemlöshet, renovering, uppvärmning, småhus, bostadsbolag",
			"digital-services": "bredband/bredbandet, digitala tjänster, app/appen, webbplats, e-tjänster, digital kompetens, plattform, data, mobiltelefon, portal",
			"youth":            "ungdomar/unga, skola/skolan, fritidsgård, elever, lärlingsplats, ungdomsråd, idrott, förening, framtid",
			"culture":          "kultur, bibliotek/biblioteket, museum, kulturarv, festival, musik, konst, språk, teater, slöjd",
			"energy":           "energi, värmepump, solceller, vindkraft, energifattigdom, energieffektivisering, el/elen, elräkning, fjärrvärme",
			"participation":    "medborgardialog, samråd, medborgarbudget, dialog, omröstning, förtroende, delaktighet, medborgarpanel, samverkan",
			"planning":         "planering, översiktsplan, detaljplan, bygglov, karta, ansökan, grönområde, infrastruktur, markanvändning",
		}),
		sections: []string{"Problem", "Arbetssätt", "Resultat", "Resurser", "Överförbarhet"},
		inflect:  scandiInflect([]string{"en", "n"}, []string{"er", "r"}, []string{"erna", "rna"}),
	},
	norwegian("nb", 9, strings.Split("og,i,å,det,som,en,på,er,av,for,med,til,den,har,de,ikke,om,et,var,vi,men,fra,kan,så,alle,etter,nye,også,mer,der", ",")),
	norwegian("nn", 3, strings.Split("og,i,å,det,som,ein,på,er,av,for,med,til,den,har,dei,ikkje,om,eit,var,vi,men,frå,kan,så,alle,etter,nye,òg,meir,der", ",")),
	{
		code: "da", weight: 10, country: []string{"DK"},
		regions:  map[string][]string{"DK": {"Nordjylland", "Midtjylland", "Sjælland", "Syddanmark"}},
		function: strings.Split("og,i,at,det,som,en,på,er,af,for,med,til,den,har,de,ikke,om,et,var,vi,men,fra,kan,så,alle,efter,nye,også,mere,hvor", ","),
		general: parseEntries(`ydelse, kommune, borger, landsby, projekt, region, workshop, pilot, interessent, frivillig,
			lokale ildsjæle, samskabelse, levende laboratorium, offentlige ydelser, metode, resultat, evaluering, budget,
			medarbejdere, partner, netværk, feedback, bruger, organisation, proces, fase, uddannelse, støtte, møde,
			spørgeskema, interview, udfordring, landdistrikt, ø, udkant`),
		topics: parseTopics(map[string]string{
			"elderly-care":     "ældrepleje/ældreplejen, ældre, hjemmepleje/hjemmeplejen, pårørende, demens, ensomhed, fald, nødkald, velfærdsteknologi, plejehjem",
			"transport":        "bus/bussen, kollektiv trafik, køreplan, chauffør, rute, flextrafik, færge, rejse, passager, taxa",
			"health":           "sundhed, lægehus, læge, mental sundhed, telemedicin, recept, patient, trivsel, sygehus, sygeplejerske",
			"housing":          "bolig, lejer, husleje, efterisolering, almene boliger, hjemløshed, renovering, opvarmning, parcelhus, boligforening",
			"digital-services": "bredbånd, digitale løsninger, app, hjemmeside, digitale kompetencer, platform, data, mobil, selvbetjening, portal",
			"youth":            "unge, skole, elever, lærling, ungdomsråd, idræt, fritid, klub, fremtid",
			"culture":          "kultur, bibliotek, museum, kulturarv, festival, musik, kunst, sprog, teater, kunsthåndværk",
			"energy":           "energi, varmepumpe, solceller, vindmøller, energifattigdom, energirenovering, el, elregning, fjernvarme",
			"participation":    "borgerinddragelse, høring, borgerbudget, dialog, afstemning, tillid, inklusion, borgerpanel, samarbejde",
			"planning":         "planlægning, kommuneplan, lokalplan, byggetilladelse, kort, ansøgning, grønne områder, infrastruktur, arealanvendelse",
		}),
		sections: []string{"Problem", "Indsats", "Resultat", "Ressourcer", "Overførbarhed"},
		inflect:  scandiInflect([]string{"en", "n"}, []string{"er", "r"}, []string{"erne", "rne"}),
	},
	{
		code: "is", weight: 9, country: []string{"IS"},
		regions:  map[string][]string{"IS": {"Vesturland", "Norðurland eystra", "Austurland", "Vestfirðir"}},
		function: strings.Split("og,í,að,á,er,sem,til,með,um,af,við,var,eru,ekki,fyrir,en,frá,þegar,það,þau,hún,hann,sína,hafa,voru,líka,meira,eftir,öll,þar", ","),
		general: parseEntries(`þjónusta/þjónustu/þjónustan, sveitarfélag/sveitarfélagsins/sveitarfélaginu, íbúi/íbúar/íbúa/íbúum, þorp, verkefni/verkefnið/verkefnisins,
			landshluti, vinnustofa/vinnustofur, tilraun, hagsmunaaðili/hagsmunaaðilar, sjálfboðaliði/sjálfboðaliðar, staðbundnir frumkvöðlar, samsköpun,
			lifandi tilraunastofa, opinber þjónusta, aðferð, niðurstaða/niðurstöður, mat, fjárhagsáætlun, starfsfólk, samstarfsaðili,
			tengslanet, endurgjöf, notandi/notendur/notenda, borgari, samtök, ferli, áfangi, þjálfun, stuðningur, fundur/fundir/fundum, könnun,
			viðtal, áskorun, dreifbýli, landsbyggð`),
		topics: parseTopics(map[string]string{
			"elderly-care":     "aldraðir/aldraða/aldraðra/öldruðum, eldri borgarar, heimaþjónusta/heimaþjónustu, aðstandendur, heilabilun, einmanaleiki, byltur, öryggishnappur, velferðartækni, hjúkrunarheimili",
			"transport":        "strætó, almenningssamgöngur, tímatafla, bílstjóri, leið, pöntunarþjónusta, ferja, ferð/ferðir, farþegi/farþegar, leigubíll",
			"health":           "heilsa, heilsugæsla/heilsugæslan/heilsugæslunnar, læknir, geðheilbrigði, fjarheilbrigðisþjónusta, lyfseðill, sjúklingur, vellíðan, sjúkrahús, hjúkrunarfræðingur",
			"housing":          "húsnæði, leigjandi, leiga, einangrun, leiguíbúð, heimilisleysi, viðgerðir, húshitun, einbýlishús, húsnæðisfélag",
			"digital-services": "ljósleiðari, stafræn þjónusta, app, vefsíða, stafræn hæfni, vettvangur, gögn, snjallsími, gátt, rafræn skilríki",
			"youth":            "ungmenni, skóli/skólinn/skólum, nemendur, iðnnám, ungmennaráð, íþróttir, tómstundir, félag, framtíð",
			"culture":          "menning, bókasafn, safn, menningararfur, hátíð, tónlist, list/listir, tungumál, leikhús, handverk",
			"energy":           "orka, varmadæla, sólarsellur, vindorka, orkufátækt, endurbætur, raforka, rafmagnsreikningur, hitaveita",
			"participation":    "íbúaþátttaka, samráð, íbúaþing, samtal, kosning, traust, inngilding, íbúaráð, samvinna",
			"planning":         "skipulag/skipulagi/skipulags, aðalskipulag, deiliskipulag, byggingarleyfi, kort, umsókn, græn svæði, innviðir, landnotkun",
		}),
		sections: []string{"Vandi", "Aðferð", "Niðurstöður", "Úrræði", "Yfirfæranleiki"},
		inflect:  suffixInflect(20, "a", "ar", "um", "i"),
	},
	{
		code: "ga", weight: 9, country: []string{"IE"},
		regions:  map[string][]string{"IE": {"Donegal", "Galway", "Mayo", "Kerry"}},
		function: strings.Split("agus,an,na,a,ar,i,le,do,ag,is,go,ó,sa,den,don,mar,tá,bhí,níl,seo,sin,iad,muid,siad,freisin,níos,faoi,trí,idir,gach", ","),
		general: parseEntries(`seirbhís/seirbhísí/sheirbhís, pobal/pobail/phobal, comhairle contae, cónaitheoir/cónaitheoirí, sráidbhaile, tionscadal,
			réigiún, ceardlann, píolótach, páirtí leasmhar, oibrithe deonacha, seaimpíní áitiúla, comhléiriú, saotharlann bheo,
			seirbhísí poiblí, cur chuige, toradh/torthaí, meastóireacht, buiséad, foireann, comhpháirtí, líonra, aiseolas,
			úsáideoir/úsáideoirí, saoránach, eagraíocht, próiseas, céim, modh, oiliúint, tacaíocht, cruinniú/cruinnithe, suirbhé,
			agallamh, dúshlán, tuath, Gaeltacht/Ghaeltacht, oileán, contae`),
		topics: parseTopics(map[string]string{
			"elderly-care":     "daoine scothaosta, teileachúram, cúram baile, cúramóir/cúramóirí, néaltrú, uaigneas, titim, aláram, braiteoir/braiteoirí, teach altranais",
			"transport":        "bus, iompar pobail, amchlár, tiománaí, bealach, áirithint, bád farantóireachta, aistear, paisinéir, tacsaí",
			"health":           "sláinte, clinic, dochtúir, meabhairshláinte, cianleigheas, oideas, othar, folláine, ospidéal, altra",
			"housing":          "tithíocht, tionónta, cíos, insliú, tithíocht shóisialta, tiarna talún, easpa dídine, deisiúcháin, téamh, teach/tithe",
			"digital-services": "leathanbhanda, seirbhísí digiteacha, aip, suíomh gréasáin, scileanna digiteacha, ardán, sonraí, fón póca, tairseach, ar líne",
			"youth":            "daoine óga, scoil, óige, mic léinn, printíseacht, comhairle na n-óg, déagóirí, spórt, club, gairmeacha",
			"culture":          "cultúr, leabharlann, músaem, oidhreacht, féile, ceol, ealaíona, teanga/Gaeilge/nGaeilge/Ghaeilge, amharclann, ceardaíocht",
			"energy":           "fuinneamh, caidéal teasa, grianfhuinneamh, gaoth, bochtaineacht bhreosla, iarfheistiú, éifeachtúlacht, leictreachas, billí, téamh ceantair",
			"participation":    "rannpháirtíocht, comhairliúchán, buiséadú rannpháirteach, plé, vóta, muinín, cuimsiú, painéal saoránach, comhdhearadh",
			"planning":         "pleanáil, plean forbartha, réamhphleanáil, criosú, cead pleanála, iarratas, léarscáil, talamh, spás glas, bonneagar",
		}),
		sections: []string{"Fadhb", "Cur chuige", "Torthaí", "Acmhainní", "Inaistritheacht"},
		inflect:  func(_ *rand.Rand, base string) string { return base },
	},
}

func norwegian(code string, weight float64, function []string) *corpusLang {
	return &corpusLang{
		code: code, weight: weight, country: []string{"NO"},
		regions:  map[string][]string{"NO": {"Vestland", "Nordland", "Troms og Finnmark", "Trøndelag"}},
		function: function,
		general: parseEntries(`tjeneste, kommune, innbygger, bygd, prosjekt, region, verksted, pilot, interessent, frivillig,
			lokale ildsjeler, samskaping, levende laboratorium, offentlige tjenester, arbeidsmåte, resultat, evaluering,
			budsjett, ansatte, partner, nettverk, tilbakemelding, bruker, borger, organisasjon, prosess, fase, metode,
			opplæring, støtte, møte, spørreundersøkelse, intervju, utfordring, distrikt, grend, øy, fylke`),
		topics: parseTopics(map[string]string{
			"elderly-care":     "eldreomsorg/eldreomsorgen, eldre, hjemmetjeneste/hjemmetjenesten, pårørende, demens, ensomhet, fall, trygghetsalarm, velferdsteknologi, sykehjem",
			"transport":        "buss/bussen, kollektivtransport, rutetabell, sjåfør, rute, bestillingstransport, ferje/ferja, reise, passasjer, drosje",
			"health":           "helse, legekontor, fastlege, psykisk helse, hjemmeoppfølging, resept, pasient, trivsel, sykehus, sykepleier",
			"housing":          "bolig, leietaker, husleie, etterisolering, utleiebolig, bostedsløshet, oppussing, oppvarming, enebolig, borettslag",
			"digital-services": "bredbånd, digitale tjenester, app, nettside, digital kompetanse, plattform, data, mobil, portal, selvbetjening",
			"youth":            "ungdom, skole, elever, lærling, ungdomsråd, idrett, fritid, lag, framtid",
			"culture":          "kultur, bibliotek, museum, kulturarv, festival, musikk, kunst, språk, teater, husflid",
			"energy":           "energi, varmepumpe, solceller, vindkraft, energifattigdom, enøk, strøm, strømregning, fjernvarme",
			"participation":    "medvirkning, høring, innbyggerbudsjett, dialog, avstemning, tillit, inkludering, innbyggerpanel, samarbeid",
			"planning":         "planlegging, kommuneplan, reguleringsplan, byggesøknad, kart, søknad, grøntområde, infrastruktur, arealbruk",
		}),
		sections: []string{"Problem", "Tiltak", "Resultat", "Ressurser", "Overførbarhet"},
		inflect:  scandiInflect([]string{"en", "n"}, []string{"er", "r"}, []string{"ene", "ne"}),
	}
}

type generator struct {
	r        *rand.Rand
	langCum  []float64
	topicCum []float64
	zipf     map[int]*rand.Zipf // by list length
	start    time.Time
	span     int64
}

func newGenerator(seed int64) *generator {
	g := &generator{
		r:     rand.New(rand.NewSource(seed)),
		zipf:  map[int]*rand.Zipf{},
		start: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	g.span = int64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Sub(g.start) / time.Second)
	var s float64
	for _, l := range corpusLangs {
		s += l.weight
		g.langCum = append(g.langCum, s)
	}
	s = 0
	for _, w := range corpusTopicWeights {
		s += w
		g.topicCum = append(g.topicCum, s)
	}
	return g
}

func (g *generator) weighted(cum []float64) int {
	x := g.r.Float64() * cum[len(cum)-1]
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

// zipfIndex draws an index in [0, n) with Zipf-distributed frequency.
func (g *generator) zipfIndex(n int) int {
	z, ok := g.zipf[n]
	if !ok {
		z = rand.NewZipf(g.r, 1.1, 2, uint64(n-1))
		g.zipf[n] = z
	}
	return int(z.Uint64())
}

func (g *generator) entry(l *corpusLang, entries [][]string) string {
	forms := entries[g.zipfIndex(len(entries))]
	if len(forms) > 1 {
		// The base form is the most frequent one.
		if g.r.Intn(2) == 0 {
			return forms[0]
		}
		return forms[1+g.r.Intn(len(forms)-1)]
	}
	return l.inflect(g.r, forms[0])
}

func (g *generator) word(l *corpusLang, topics []string) string {
	switch x := g.r.Intn(100); {
	case x < 42:
		return l.function[g.zipfIndex(len(l.function))]
	case x < 72:
		t := topics[0]
		if len(topics) > 1 && g.r.Intn(10) < 3 {
			t = topics[1+g.r.Intn(len(topics)-1)]
		}
		return g.entry(l, l.topics[t])
	case x < 74:
		return fmt.Sprint(2 + g.r.Intn(400))
	default:
		return g.entry(l, l.general)
	}
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func (g *generator) sentence(l *corpusLang, topics []string) string {
	n := 7 + g.r.Intn(12)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.word(l, topics)
	}
	return capitalize(strings.Join(ws, " ")) + "."
}

func (g *generator) sentences(l *corpusLang, topics []string, lo, hi int) string {
	n := lo + g.r.Intn(hi-lo+1)
	ss := make([]string, n)
	for i := range ss {
		ss[i] = g.sentence(l, topics)
	}
	return strings.Join(ss, " ")
}

func (g *generator) title(l *corpusLang, topics []string) string {
	n := 3 + g.r.Intn(5)
	ws := make([]string, 0, n)
	ws = append(ws, g.entry(l, l.topics[topics[0]]))
	for len(ws) < n {
		switch g.r.Intn(3) {
		case 0:
			ws = append(ws, l.function[g.zipfIndex(len(l.function))])
		case 1:
			ws = append(ws, g.entry(l, l.general))
		default:
			ws = append(ws, g.entry(l, l.topics[topics[g.r.Intn(len(topics))]]))
		}
	}
	return capitalize(strings.Join(ws, " "))
}

func (g *generator) doc() Doc {
	l := corpusLangs[g.weighted(g.langCum)]
	topics := []string{CorpusTopics[g.weighted(g.topicCum)]}
	for extra := g.r.Intn(3); extra > 0; extra-- {
		t := CorpusTopics[g.weighted(g.topicCum)]
		dup := false
		for _, x := range topics {
			dup = dup || x == t
		}
		if !dup {
			topics = append(topics, t)
		}
	}
	country := pickString(g.r, l.country)
	d := Doc{
		CID:      fmt.Sprintf("bafkrei%016x%016x", g.r.Uint64(), g.r.Uint64()),
		Kind:     "practice",
		Language: l.code,
		Topics:   topics,
		Country:  country,
		Region:   pickString(g.r, l.regions[country]),
		Created:  g.start.Add(time.Duration(g.r.Int63n(g.span)) * time.Second),
	}
	d.PracticeID = d.CID
	if g.r.Intn(100) >= 15 {
		d.Stage = 1 + g.r.Intn(5)
	}
	d.Title = g.title(l, topics)
	if g.r.Intn(4) == 0 {
		d.Kind = "lesson"
		d.Summary = g.sentences(l, topics, 2, 3)
		d.Lessons = g.sentences(l, topics, 1, 3)
		if g.r.Intn(2) == 0 {
			d.Body = g.sentences(l, topics, 1, 4)
		}
		return d
	}
	d.Summary = g.sentences(l, topics, 2, 4)
	d.Lessons = g.sentences(l, topics, 1, 4)
	var b strings.Builder
	for i, s := range l.sections {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s)
		b.WriteString(": ")
		b.WriteString(g.sentences(l, topics, 2, 5))
	}
	d.Body = b.String()
	return d
}
