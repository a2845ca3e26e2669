/*
 * gen_words.h - the vocabulary and grammar of bench/gen.c: fictional
 * countries, people, agencies and newspapers, and a small context-free
 * grammar of wire-news sentences on eight recurring topics. All of it was
 * written for this generator; no event, person or place in it is real.
 *
 * Grammar notation, compiled once at start-up by gen.c:
 *   {name}   expand the rule "name" (one alternative, chosen uniformly);
 *   {@field} expand the current topic's rule "<topic>.<field>";
 *   {$var}   insert a story variable (the cast: people, places, the date);
 *   {#num}   insert a generated number (see the num_names table in gen.c;
 *            a_n and a_nn put the article in front: "a 5", "an 8");
 *   {^...}   any of the above with its first letter upper-cased.
 * Sentences end with their own punctuation; clauses (lead, event, fact,
 * stat, background) do not, so that one clause fits several frames. Within
 * one story each topic field is drawn without replacement (gen.c redraws a
 * sentence that would reuse one), so the pools must outlast a 30-sentence
 * story: keep nine or more events and facts per topic. The generic frames
 * and the attribution rule are deliberately shared by every topic: stories
 * on the same topic share entities and stock phrases ("the ministry said
 * in a statement") without sharing sentences, which is what makes them
 * hard negatives for a near-duplicate detector.
 *
 * Only included by bench/gen.c.
 */
#ifndef GEN_WORDS_H
#define GEN_WORDS_H

#include <stddef.h>

struct gen_place {
    const char *country;
    const char *adj;
    const char *capital;
    const char *cities[2];
    const char *currency;
};

static const struct gen_place gen_places[] = {
    {"Marenia", "Marenian", "Port Aldis", {"Velm", "Caskwater"}, "crowns"},
    {"Telvora", "Telvoran", "Ostrin", {"Dabrek", "Lunehaven"}, "talers"},
    {"Kestra", "Kestran", "Sollberg", {"Vireth", "Amsell"}, "kests"},
    {"Caspria", "Casprian", "Torrel", {"Nabeth", "Quarry Point"}, "florins"},
    {"Orlenne", "Orlennese", "Bellac", {"Merrow", "Saint-Ivaine"}, "livres"},
    {"Vaskovia", "Vaskovian", "Drovny", {"Pelk", "Zarovo"}, "dukats"},
    {"Brelland", "Brellish", "Hallam Cross", {"Easterby", "Mollin"}, "marks"},
    {"Syrtana", "Syrtanese", "Qadira", {"Ambel", "Surru"}, "dinars"},
    {"Kaluvia", "Kaluvian", "Revna", {"Tamsk", "Orlo"}, "lats"},
    {"Pellmora", "Pellmoran", "Canteral", {"Fennick", "Arrowmouth"}, "sols"},
    {"Estrova", "Estrovan", "Mirsk", {"Golova", "Velen"}, "grosz"},
    {"Norvath", "Norvathi", "Helmstad", {"Ruun", "Frosthold"}, "kronor"},
};

/* Wire agencies: the name used in datelines and the site they publish on. */
struct gen_agency {
    const char *name;
    const char *domain;
};

static const struct gen_agency gen_agencies[] = {
    {"Northwire", "northwire.example"},
    {"Tidewater", "tidewater-news.example"},
    {"Lantern Wire", "lanternwire.example"},
    {"Meridian Dispatch", "meridiandispatch.example"},
    {"Crossway Press", "crosswaypress.example"},
};

/*
 * Newspapers that republish wire copy with their own page furniture. Each
 * site keeps the same masthead, share line and footer on every page, which
 * is the boilerplate that line-level dedup is meant to strip.
 */
struct gen_site {
    const char *name;
    const char *domain;
    const char *tagline; /* NULL: none */
    const char *share;   /* the share widget's residue */
    const char *related; /* heading of the related-links footer */
    const char *rights;  /* copyright line, after the year */
};

static const struct gen_site gen_sites[] = {
    {"The Harbor Ledger", "harborledger.example",
     "Serving the coast since 1894", "Link copied", "Related articles",
     "The Harbor Ledger. All rights reserved."},
    {"Velm Evening Courier", "velmcourier.example", NULL, "\u2022 Link copied",
     "More from the Courier", "Velm Evening Courier Ltd."},
    {"The Sollberg Observer", "sollbergobserver.example",
     "Independent. Local. Daily.", "Share | Link copied", "Read more",
     "The Sollberg Observer. Reproduction prohibited."},
    {"The Morning Compass", "morningcompass.example", NULL, "Link copied",
     "Related articles", "The Morning Compass Media Group."},
    {"Quarry Point Gazette", "qpgazette.example", "Your town, your news",
     "\u2022 Link copied", "You may also like",
     "Quarry Point Gazette. All rights reserved."},
    {"Northern Standard", "northernstandard.example", NULL,
     "Print | Email | Link copied", "Related articles",
     "Northern Standard Publishing."},
};

/* Sites that mirror wire copy unchanged (exact duplicates land here). */
static const char *const gen_mirrors[] = {
    "newsroll.example",     "dailydigest.example",      "wiremirror.example",
    "harborledger.example", "morningcompass.example",   "headlinehub.example",
    "qpgazette.example",    "northernstandard.example",
};

static const char *const gen_first_names[] = {
    "Ansel",      "Brina",   "Corvin",   "Dalia",   "Emeric",   "Faye",
    "Goran",      "Hester",  "Ilse",     "Jorund",  "Kalla",    "Lorcan",
    "Mirela",     "Nils",    "Odile",    "Pavo",    "Quilla",   "Rasmus",
    "Selka",      "Tomas",   "Una",      "Vesna",   "Wendel",   "Yara",
    "Zoltan",     "Aurel",   "Britt",    "Casimir", "Delphine", "Elio",
    "Freya",      "Gideon",  "Helka",    "Ivo",     "Jana",     "Kaspar",
    "Lenka",      "Matthis", "Noor",     "Oskar",   "Petra",    "Rhea",
    "S\u00f8ren", "Tuva",    "Viktor",   "Wilma",   "Xenia",    "Zofia",
    "Anouk",      "Bastien", "L\u00e9a", "Marek",   "Ines",     "Teodor",
    "Idris",      "Maren",
};

static const char *const gen_last_names[] = {
    "Aldecott",    "Brenvik",    "Castellane", "Dravi\u0107", "Erlund",
    "Feyne",       "Gorsk",      "Halloran",   "Ivarsen",     "Jessop",
    "Kovalt",      "Lindgard",   "Marrow",     "Nov\u00e1k",  "Orrin",
    "Pellegrin",   "Quist",      "Rademaker",  "Sorel",       "Tamm",
    "Ulven",       "Varga",      "Wexley",     "Yarrow",      "Zelenko",
    "Ambrose",     "Birkett",    "Corrigan",   "Dunmore",     "Eskeland",
    "Fairweather", "Grell",      "Hask",       "Iliev",       "Jovanov",
    "Kettering",   "Lutz",       "Morandi",    "Nystrom",     "Oyelaran",
    "Penhallow",   "Radi\u0107", "Strand",     "Thorne",      "Uberti",
    "Vance",       "Whitlock",   "Zamora",     "Achterberg",  "Bellweather",
};

static const char *const gen_topics[] = {
    "defense",   "trade",  "energy",   "health",
    "transport", "courts", "politics", "climate",
};

/* Every topic defines one rule per field, named "<topic>.<field>". */
static const char *const gen_fields[] = {
    "title", "org",   "noun", "headline",   "lead",    "event",
    "fact",  "quote", "stat", "background", "caption",
};

struct gen_rule {
    const char *name;
    const char *const *alts; /* NULL-terminated */
};

#define GEN_ALTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct gen_rule gen_rules[] = {
    /* Story skeleton. */
    {"headline_s", GEN_ALTS("{^@headline}")},
    {"lead_s", GEN_ALTS("{^@lead}.")},
    {"caption_s",
     GEN_ALTS("This photo taken on {$date}, {$year}, shows {$p1t} {$p1} "
              "{@caption}. ({$agency})",
              "{$p1t} {$p1} is seen {@caption} on {$date}. ({$agency} Photo)",
              "{^$p1t} {$p1} {@caption} in a file photo. ({$agency})",
              "{$p1t} {$p1}, left, and {$p2t} {$p2} {@caption} on "
              "{$weekday}. ({$agency})")},
    {"body",
     GEN_ALTS("{^@event}, {attr}.", "{^@event}.", "{^@event}.", "{^@fact}.",
              "{^@fact}, {attr}.", "{conn} {@event}.", "{quote_s}", "{quote_s}",
              "{quote_s}", "{^@stat}.", "{^@stat}, {attr}.", "{^@background}.",
              "{$p2l} noted that {@background}.", "{reaction}.",
              "{$p2t} {$p2} {said} that {@fact}.",
              "According to {$org2}, {@fact}.",
              "{^@event} after {concern}, {attr}.")},
    {"closing_s",
     GEN_ALTS("{^$org1} said it would release further details {later}.",
              "Further talks are planned {later}.",
              "The ministry did not respond to a request for comment.",
              "{$p1l} is due to visit {$rival} {later}.",
              "More details are expected to be announced {later}.",
              "It was not immediately clear how {$rival} would respond.",
              "{^$org2} declined to comment on the matter.",
              "The government is expected to make a final decision "
              "{later}.")},
    {"quote_s",
     GEN_ALTS(
         "\"{^@quote},\" {$p1l} {said}.", "\"{^@quote},\" said {$p2}, {$p2d}.",
         "\"{^@quote},\" {$p1t} {$p1} {said}.", "{$p1l} {said}: \"{^@quote}.\"",
         "\"{^@quote}. {^@quote},\" {$p2l} added.",
         "\"{^@quote},\" {$p3}, {$p3d}, {said}, adding that {@fact}.",
         "\"{^@quote},\" {$p3l} {said} {when}.",
         "Speaking to reporters in {$capital}, {$p1l} said: "
         "\"{^@quote}.\"")},

    /* Stock phrases shared by every topic. */
    {"attr",
     GEN_ALTS("the ministry said in a statement", "{$org1} said in a statement",
              "officials said", "a spokesperson for {$org1} said",
              "according to people familiar with the matter",
              "the statement said", "it said", "officials in {$capital} said",
              "a senior official said on condition of anonymity", "{$p2l} said",
              "according to {$org2}", "local media reported",
              "the ministry said", "{$org1} said")},
    {"said", GEN_ALTS("said", "said", "told reporters", "said at a briefing",
                      "told a news conference", "told lawmakers",
                      "said in an interview", "wrote in a statement")},
    {"when", GEN_ALTS("on {$weekday}", "{$weekday}", "late on {$weekday}",
                      "earlier this week", "on {$weekday} morning", "this week",
                      "over the weekend", "last week", "on {$weekday} evening",
                      "earlier in the day")},
    {"later",
     GEN_ALTS("later this month", "next week",
              "before the end of "
              "the year",
              "in the coming weeks", "by {$month_next}", "early next year",
              "within days", "as soon as next month", "in {$month_next}")},
    {"hedge", GEN_ALTS("is expected to", "is likely to", "could", "may",
                       "is set to", "will")},
    {"conn", GEN_ALTS("Meanwhile,", "Separately,", "In addition,",
                      "At the same time,", "Earlier,", "Still,", "However,",
                      "On {$weekday},", "In {$capital},")},
    {"concern",
     GEN_ALTS("heightened concern over {@noun}",
              "growing pressure from opposition lawmakers",
              "rising costs for households",
              "questions about the pace of reform",
              "a tense period in relations with {$rival}",
              "weeks of debate over {@noun}", "criticism from {people_group}")},
    {"people_group",
     GEN_ALTS("residents", "business groups", "opposition lawmakers",
              "analysts", "union leaders", "economists", "diplomats",
              "local officials", "campaigners", "industry executives")},
    {"react_v",
     GEN_ALTS("welcomed the move", "criticised the plan",
              "called for more details", "urged caution",
              "said the decision came too late", "questioned the timing",
              "expressed cautious support", "warned of further delays",
              "said they would study the proposal",
              "demanded a public consultation")},
    {"reaction", GEN_ALTS("{^people_group} {react_v}",
                          "{^people_group} in {$city} {react_v}",
                          "{^$org2} {react_v} but said questions remained",
                          "{^people_group} {react_v}, {attr}")},
    {"ordinal", GEN_ALTS("second", "third", "fourth", "fifth", "sixth")},
    {"decade", GEN_ALTS("1960s", "1970s", "1980s")},
    {"goods", GEN_ALTS("machinery", "farm goods", "electronics", "steel",
                       "textiles", "processed food", "auto parts", "fertiliser",
                       "timber", "medical equipment")},
    {"illness", GEN_ALTS("measles", "influenza", "whooping cough",
                         "a respiratory virus", "norovirus", "scarlet fever")},
    {"party", GEN_ALTS("Progress Party", "National Union", "Civic Alliance",
                       "Labour Front", "Green Coalition", "Liberal Forum")},
    {"utility", GEN_ALTS("Northgrid", "Kestrel Energy", "Solmark",
                         "Brightwater Utilities")},

    /* Topic: defense. */
    {"defense.title",
     GEN_ALTS("Defense Minister", "Deputy Defense Minister",
              "Army Chief of Staff", "Vice Admiral", "Joint Chiefs Chairman",
              "Defense Ministry spokesperson")},
    {"defense.org",
     GEN_ALTS("the {$adj} Defense Ministry", "the Joint Chiefs of Staff",
              "the {$adj} Navy", "the National Security Council",
              "the Coastal Defense Command", "the Border Guard Directorate")},
    {"defense.noun",
     GEN_ALTS("missile tests", "border patrols", "naval drills", "air defense",
              "troop rotations", "the security pact", "arms procurement")},
    {"defense.headline",
     GEN_ALTS("{$country}, {$rival} defense chiefs to meet {later}",
              "{$adj} military to expand {@noun} near {$rival} border",
              "{$country} seeks early talks on security pact with {$rival}",
              "{$p1t} {$p1l} vows stronger deterrence after {$rival} drills",
              "Navy begins joint exercise off {$city} coast",
              "{$country} to raise defense spending by {#pct} percent",
              "Lawmakers question cost of new {$adj} patrol ships")},
    {"defense.lead",
     GEN_ALTS("{$country} and {$rival} are seeking to hold a meeting of their "
              "defense chiefs {later} to discuss {concern}, officials said "
              "{$weekday}",
              "{$country}'s military said {$weekday} it would extend {@noun} "
              "along its eastern border after {$rival} moved additional units "
              "into the region",
              "{$p1t} {$p1} {said} {$weekday} that the armed forces would stay "
              "on high alert following {$rival}'s latest {@noun}",
              "the {$adj} Navy launched {#a_n}-day exercise off the coast of "
              "{$city} {$weekday}, involving {#nn} ships and about {#thou} "
              "personnel, the Joint Chiefs of Staff said",
              "{$country} plans to buy {#nn} new patrol aircraft over the next "
              "{#n} years as part of a program to modernise its coastal "
              "defense, {$org1} said {$weekday}",
              "defense officials from {$country} and {$rival} held a rare "
              "round of talks in {$capital} {when}, the first such meeting in "
              "{#n} years")},
    {"defense.event",
     GEN_ALTS(
         "the two sides agreed to set up a hotline between their military "
         "commands",
         "the exercise will include live-fire drills and a simulated "
         "evacuation of civilians from {$city}",
         "{$p1l} is expected to brief lawmakers on the plan {later}",
         "the meeting {hedge} focus on curbing {$rival}'s missile program "
         "and on ways to share early-warning data",
         "{$org1} ordered a review of readiness at all coastal bases",
         "{$p2t} {$p2} will travel to {$capital} {later} to finalise the "
         "details",
         "the two sides plan to discuss joint procurement, cyber defense "
         "and the protection of undersea cables",
         "the ministry said it would publish a new defense white paper "
         "{later}",
         "{$rival}'s foreign ministry summoned {$country}'s ambassador to "
         "protest against the drills",
         "both governments have signalled a willingness to resume regular "
         "consultations",
         "several units were moved from {$city} to reinforce positions "
         "near the border",
         "officers from both sides will observe part of the exercise",
         "the ministry plans to release satellite images of the area {later}")},
    {"defense.fact",
     GEN_ALTS("{$p1l}, a former navy officer, took office {#n} months ago",
              "the last joint drill was held in {$month} {#lastyear}",
              "{$country} spends about {#pct} percent of its economic output "
              "on defense",
              "the border between the two countries stretches for roughly "
              "{#nnn} kilometres",
              "{$rival} has conducted {#n} missile tests so far this year",
              "the two countries signed a security pact in {#oldyear} that "
              "commits them to consult each other in a crisis",
              "{$org1} did not give details on the number of troops involved",
              "the plan still requires approval from parliament",
              "the navy's newest frigate entered service {#n} years ago",
              "{$country} and {$rival} share a maritime boundary that has "
              "never been formally agreed",
              "conscripts serve for {#nn} months under current law")},
    {"defense.quote",
     GEN_ALTS("we will respond firmly to any provocation",
              "our priority is to keep the sea lanes open and our people safe",
              "this exercise is defensive in nature and is not aimed at any "
              "third country",
              "dialogue remains the best way to lower tensions",
              "we cannot afford to be unprepared",
              "the alliance is stronger today than it has been in years",
              "we are watching every movement on the other side of the border "
              "very closely",
              "nobody wants an arms race, but we must be ready",
              "our soldiers are ready, and our diplomats are ready too")},
    {"defense.stat",
     GEN_ALTS("the defense budget for next year is set at {#money} "
              "{$currency}, up {#pct} percent from this year",
              "about {#thou} troops are stationed in the eastern provinces",
              "the navy operates {#nn} vessels, {#n} of which are more than "
              "{#nn} years old",
              "the procurement program is expected to cost {#money} "
              "{$currency} over {#n} years",
              "{$rival} has moved an estimated {#thou} soldiers closer to the "
              "frontier since {$month}",
              "the exercise will cost about {#nnn} million {$currency}")},
    {"defense.background",
     GEN_ALTS(
         "relations between {$country} and {$rival} have been strained "
         "since a dispute over fishing grounds in {#oldyear}",
         "the coastal region around {$city} has seen repeated incursions "
         "by unidentified drones in recent months",
         "{$country} reintroduced limited conscription {#n} years ago "
         "amid concern over its shrinking reserve forces",
         "the two militaries have not held formal talks since a collision "
         "between patrol boats in {#oldyear}",
         "the government has promised to modernise an air force that "
         "still relies on aircraft bought decades ago",
         "the security pact has been renewed {#n} times since it was signed")},
    {"defense.caption", GEN_ALTS("speaking to lawmakers about {@noun}",
                                 "inspecting troops at a base near {$city}",
                                 "arriving for talks in {$capital}",
                                 "attending a naval ceremony in {$city}")},

    /* Topic: trade and the economy. */
    {"trade.title",
     GEN_ALTS("Trade Minister", "Finance Minister", "Central Bank Governor",
              "Chief Economist", "Deputy Trade Minister",
              "Chamber of Commerce President")},
    {"trade.org",
     GEN_ALTS("the {$adj} Trade Ministry", "the Central Bank of {$country}",
              "the National Statistics Office",
              "the {$adj} Chamber of Commerce", "the Finance Ministry",
              "the Export Promotion Agency")},
    {"trade.noun", GEN_ALTS("tariffs", "exports", "the trade deficit",
                            "steel quotas", "grain shipments", "the currency",
                            "inflation", "interest rates")},
    {"trade.headline",
     GEN_ALTS("{$country}, {$rival} agree to cut tariffs on {goods}",
              "{$adj} exports rise for {ordinal} straight month",
              "Central bank holds rates at {#pct} percent",
              "{$country} warns of retaliation over {$rival} steel quotas",
              "Inflation in {$country} eases to {#pct} percent",
              "Trade talks with {$rival} stall over farm imports")},
    {"trade.lead",
     GEN_ALTS("{$country}'s exports rose {#pct} percent in {$month} from a "
              "year earlier, helped by strong demand for {goods}, {$org1} said "
              "{$weekday}",
              "{$country} and {$rival} agreed {$weekday} to lower tariffs on "
              "{goods} and {goods}, ending a dispute that had dragged on for "
              "{#n} months",
              "the Central Bank of {$country} kept its benchmark interest rate "
              "unchanged at {#pct} percent {$weekday}, saying inflation was "
              "easing more slowly than expected",
              "{$p1t} {$p1} {said} {$weekday} the government would challenge "
              "{$rival}'s new quotas on {goods} at the regional trade court",
              "consumer prices in {$country} rose {#pct} percent in {$month}, "
              "the slowest pace in {#n} months, {$org1} said {$weekday}",
              "business confidence in {$country} fell for a {ordinal} "
              "consecutive month in {$month} as companies braced for higher "
              "borrowing costs")},
    {"trade.event",
     GEN_ALTS(
         "the agreement {hedge} take effect at the start of next quarter",
         "negotiators will meet again in {$capital} {later} to settle "
         "the remaining issues",
         "the bank said it was ready to act if the currency weakened "
         "further",
         "exporters of {goods} are expected to benefit most from the deal",
         "the government plans to offer cheap loans to small "
         "manufacturers hit by the quotas",
         "{$org2} revised its growth forecast for the year down to {#pct} "
         "percent",
         "the ministry said it would monitor prices of {goods} closely",
         "{$p2t} {$p2} called for talks to resume {later}",
         "shipments of {goods} to {$rival} fell sharply after the quotas "
         "were announced",
         "analysts expect the bank to cut rates {later} if inflation "
         "continues to slow",
         "the chamber of commerce asked for a delay in the new customs rules",
         "officials from both sides will draw up a list of goods exempt from "
         "duties")},
    {"trade.fact",
     GEN_ALTS("{$rival} is {$country}'s {ordinal}-largest trading partner",
              "exports account for about {#nn} percent of {$country}'s "
              "economic output",
              "the trade surplus widened to {#money} {$currency} in {$month}",
              "the national currency has lost about {#pct} percent of its "
              "value this year",
              "the quotas were first imposed in {#lastyear}",
              "food and energy make up almost a third of the consumer price "
              "basket",
              "{$p1l} has held the post since {#oldyear}",
              "{goods} made up about a quarter of last year's exports",
              "the central bank targets inflation of around {#n} percent",
              "the two economies have been linked by a customs agreement since "
              "{#oldyear}")},
    {"trade.quote",
     GEN_ALTS("free and fair trade benefits both our peoples",
              "we will not stand by while our producers are shut out of their "
              "biggest market",
              "the worst of the price shock is behind us, but households are "
              "still under pressure",
              "this deal removes uncertainty for thousands of small firms",
              "we expect growth to pick up in the second half of the year",
              "our door remains open to negotiation",
              "the numbers are encouraging, but we are not complacent",
              "nobody wins a tariff war")},
    {"trade.stat",
     GEN_ALTS("imports fell {#pct} percent to {#money} {$currency}",
              "the trade deficit with {$rival} narrowed to {#money} "
              "{$currency} in the first {#n} months of the year",
              "unemployment stood at {#pct} percent in {$month}",
              "the economy grew {#pct} percent in the last quarter",
              "sales of {goods} abroad rose {#pct} percent year on year",
              "retail sales rose {#pct} percent in {$month} from the previous "
              "month")},
    {"trade.background",
     GEN_ALTS("{$country} and {$rival} have argued for years over access to "
              "each other's markets for {goods}",
              "the central bank raised rates {#n} times last year to fight a "
              "surge in food and fuel prices",
              "the government has pinned its growth hopes on exports of "
              "{goods} and on tourism",
              "talks on a broader free trade agreement collapsed in {#oldyear}",
              "a drought last summer pushed up prices of bread and vegetables "
              "across the region",
              "small exporters say the strong {$currency} has made their goods "
              "harder to sell abroad")},
    {"trade.caption", GEN_ALTS("speaking at a press conference on {@noun}",
                               "visiting a container terminal in {$city}",
                               "arriving at the finance ministry in {$capital}",
                               "meeting business leaders in {$city}")},

    /* Topic: energy. */
    {"energy.title",
     GEN_ALTS("Energy Minister", "Grid Operator Chief Executive",
              "Deputy Energy Minister", "Nuclear Safety Commissioner",
              "Environment Minister")},
    {"energy.org",
     GEN_ALTS("the {$adj} Energy Ministry", "the National Grid Authority",
              "the state utility {utility}", "the Nuclear Safety Commission",
              "the Offshore Wind Council")},
    {"energy.noun",
     GEN_ALTS("power prices", "gas supplies", "the pipeline", "offshore wind",
              "the nuclear plant", "winter demand", "fuel subsidies")},
    {"energy.headline",
     GEN_ALTS("{$country} to build {#n} new offshore wind farms by {#futyear}",
              "{$adj} grid operator warns of winter shortages",
              "{$country}, {$rival} sign gas pipeline deal",
              "Nuclear plant near {$city} restarts after inspection",
              "Government extends fuel subsidies until {$month_next}",
              "Power prices in {$country} jump as cold snap bites")},
    {"energy.lead",
     GEN_ALTS("{$country} will build {#n} offshore wind farms off the coast of "
              "{$city} by {#futyear}, {$p1t} {$p1} {said} {$weekday}",
              "{$org1} warned {$weekday} that the country could face rolling "
              "blackouts this winter if gas deliveries from {$rival} are "
              "disrupted",
              "a reactor at the {$city} nuclear plant was restarted {$weekday} "
              "after {#a_n}-week safety inspection, {$org1} said",
              "{$country} and {$rival} signed an agreement {$weekday} to build "
              "a gas pipeline linking their networks, a project estimated to "
              "cost {#money} {$currency}",
              "the government said {$weekday} it would extend fuel subsidies "
              "for households by another {#n} months as power prices stay "
              "high",
              "wholesale power prices in {$country} jumped {#pct} percent "
              "{when} as a cold snap pushed up demand")},
    {"energy.event",
     GEN_ALTS(
         "construction {hedge} begin {later}",
         "the operator asked large factories to cut their use of "
         "electricity during peak hours",
         "{$org2} said the inspection found no serious defects",
         "the pipeline {hedge} carry enough gas to heat about {#thou} "
         "homes",
         "{$p2t} {$p2} urged households to save energy",
         "the ministry will hold an auction for new wind licences {later}",
         "environmental groups called for a full review of the project",
         "the subsidies will cost the state about {#money} {$currency}",
         "engineers replaced {#nn} fuel assemblies during the shutdown",
         "the grid operator said it had secured extra supplies from "
         "neighbouring countries",
         "the regulator will decide on next year's tariffs {later}",
         "the operator said it would test emergency generators at hospitals")},
    {"energy.fact",
     GEN_ALTS("gas accounts for about {#nn} percent of {$country}'s "
              "electricity generation",
              "the {$city} plant supplies around a fifth of the country's "
              "power",
              "{$country} imports most of its gas from {$rival}",
              "the first offshore wind farm began operating in {#oldyear}",
              "prices are still roughly double their level of {#n} years ago",
              "the plant was commissioned in {#oldyear} and is due to close by "
              "{#futyear}",
              "the pipeline would run for about {#nnn} kilometres",
              "the national grid lost power for several hours in {#lastyear} "
              "after a substation fire",
              "households pay some of the highest electricity prices in the "
              "region")},
    {"energy.quote",
     GEN_ALTS("we are doing everything we can to keep the lights on",
              "renewables are the cheapest and safest path to energy security",
              "safety will always come before output",
              "no household should have to choose between heating and eating",
              "this pipeline will make our supply more reliable for decades",
              "the coming winter will be a test for the whole system",
              "we need to invest now or pay much more later")},
    {"energy.stat",
     GEN_ALTS(
         "demand peaked at {#thou} megawatts on {$weekday}",
         "the wind farms will have a combined capacity of {#thou} "
         "megawatts",
         "the average household bill rose to {#nnn} {$currency} a month",
         "gas storage is {#nn} percent full",
         "electricity consumption fell {#pct} percent compared with last "
         "winter",
         "renewable sources provided {#nn} percent of electricity last year")},
    {"energy.background",
     GEN_ALTS("{$country} has struggled to replace supplies after a dispute "
              "with {$rival} over transit fees",
              "the nuclear plant has been the subject of protests by residents "
              "of {$city} for years",
              "the government has promised to generate half of the country's "
              "power from renewable sources by {#futyear}",
              "a storm damaged several transmission lines near {$city} last "
              "winter, leaving thousands without power",
              "energy prices have been a major political issue since the last "
              "election",
              "an earlier pipeline project was abandoned in {#oldyear} amid a "
              "dispute over its route")},
    {"energy.caption",
     GEN_ALTS("visiting a wind farm off {$city}",
              "inspecting the control room of the grid operator",
              "touring the nuclear plant near {$city}",
              "speaking about {@noun} in {$capital}")},

    /* Topic: health. */
    {"health.title",
     GEN_ALTS("Health Minister", "Chief Medical Officer",
              "Deputy Health Minister", "Disease Control Agency Director",
              "Hospital Association Chair")},
    {"health.org",
     GEN_ALTS("the {$adj} Health Ministry", "the Disease Control Agency",
              "the National Hospital Association",
              "the Medical Council of {$country}",
              "the Public Health Institute")},
    {"health.noun", GEN_ALTS("the outbreak", "vaccination",
                             "hospital waiting lists", "doctor shortages",
                             "drug prices", "emergency rooms", "flu season")},
    {"health.headline",
     GEN_ALTS("{$country} reports rise in {illness} cases",
              "Health ministry to hire {#thou} more nurses",
              "Doctors in {$city} begin {#n}-day strike",
              "{$country} launches vaccination drive ahead of winter",
              "Hospital waiting times in {$country} at {#n}-year high",
              "New clinic opens in {$city} to ease pressure on emergency "
              "rooms")},
    {"health.lead",
     GEN_ALTS("{$country} reported {#nnn} new cases of {illness} {when}, the "
              "highest weekly count this year, {$org1} said",
              "the government will hire {#thou} additional nurses over the "
              "next {#n} years to shorten hospital waiting lists, {$p1t} {$p1} "
              "{said} {$weekday}",
              "doctors at public hospitals in {$city} began {#a_n}-day strike "
              "{$weekday} over pay and staffing levels",
              "{$country} launched a nationwide vaccination drive {$weekday} "
              "ahead of the winter flu season, aiming to reach {#nn} percent "
              "of people over {#nn}",
              "patients in {$country} waited an average of {#nnn} days for "
              "planned surgery last year, {$org1} said in a report released "
              "{$weekday}",
              "health authorities in {$city} closed {#n} schools {$weekday} "
              "after an outbreak of {illness} among pupils")},
    {"health.event",
     GEN_ALTS(
         "the ministry urged parents to check their children's "
         "vaccination records",
         "{$org2} said the situation was under control",
         "hospitals postponed non-urgent operations during the strike",
         "the campaign {hedge} run until the end of {$month_next}",
         "{$p2t} {$p2} is expected to meet union representatives {later}",
         "pharmacies will offer free vaccinations to people over {#nn}",
         "the government promised to publish a plan to cut waiting lists "
         "{later}",
         "emergency departments in {$city} were operating above capacity",
         "inspectors will review infection controls at all regional "
         "hospitals",
         "the union said the strike could be extended if talks fail",
         "the ministry set up a hotline for parents with questions about "
         "symptoms",
         "medical students will be allowed to assist in overstretched wards")},
    {"health.fact",
     GEN_ALTS("{$country} has about {#n} doctors per thousand people, below "
              "the regional average",
              "vaccination rates among young children fell to {#nn} percent "
              "last year",
              "the health budget rose {#pct} percent this year",
              "most of the cases were recorded in and around {$city}",
              "about {#nn} percent of nurses are over the age of fifty",
              "{$org1} publishes infection figures every {$weekday}",
              "the disease control agency was set up after an outbreak in "
              "{#oldyear}",
              "private clinics now perform about a third of planned operations",
              "the last nationwide vaccination campaign ran in {#lastyear}")},
    {"health.quote",
     GEN_ALTS("there is no reason to panic, but people should take sensible "
              "precautions",
              "our nurses are exhausted and they need help now",
              "vaccination remains the best protection we have",
              "patients should not have to wait months for basic care",
              "we are seeing more cases than we would expect at this time of "
              "year",
              "every hospital in the country has been told to prepare",
              "we have listened to the doctors and we will keep listening")},
    {"health.stat",
     GEN_ALTS("{#nnn} people were admitted to hospital with {illness} in "
              "{$month}",
              "the waiting list for surgery has grown to {#thou} patients",
              "{#nn} percent of the target group has been vaccinated so far",
              "the ministry will spend {#money} {$currency} on the program",
              "doctors' salaries rose {#pct} percent last year",
              "the average wait for a specialist appointment is {#nn} days")},
    {"health.background",
     GEN_ALTS("the health system has struggled with staff shortages since many "
              "doctors moved abroad",
              "a similar outbreak in {#lastyear} led to the temporary closure "
              "of several schools",
              "the government has faced criticism over long waits in emergency "
              "rooms",
              "the last major health reform was passed in {#oldyear}",
              "rural areas around {$city} have had difficulty attracting "
              "family doctors",
              "spending on health care has lagged behind the average of "
              "neighbouring countries for a decade")},
    {"health.caption",
     GEN_ALTS("visiting a hospital ward in {$city}",
              "speaking to nurses in {$capital}",
              "receiving a vaccination at a clinic in {$city}",
              "holding up a chart on {@noun}")},

    /* Topic: transport. */
    {"transport.title",
     GEN_ALTS("Transport Minister", "Railways Chief Executive",
              "Aviation Authority Director", "Port Authority Chair",
              "Deputy Transport Minister")},
    {"transport.org",
     GEN_ALTS("the {$adj} Transport Ministry", "the National Railways",
              "the Civil Aviation Authority", "the {$city} Port Authority",
              "the Road Safety Board")},
    {"transport.noun",
     GEN_ALTS("rail fares", "the new airport", "port congestion", "road safety",
              "the high-speed line", "bus services", "ferry routes")},
    {"transport.headline",
     GEN_ALTS("{$country} unveils plan for high-speed rail to {$city}",
              "Rail workers strike halts trains across {$country}",
              "Port of {$city} expands container terminal",
              "New airport near {$capital} delayed again",
              "{$country} to cut speed limits on rural roads",
              "Ferry link between {$city} and {$rival} to resume")},
    {"transport.lead",
     GEN_ALTS("{$country} will build a high-speed rail line between "
              "{$capital} and {$city} at a cost of {#money} {$currency}, "
              "{$p1t} {$p1} {said} {$weekday}",
              "train services across {$country} were halted {$weekday} as rail "
              "workers walked out over pay, leaving thousands of commuters "
              "stranded",
              "the port of {$city} will double the size of its container "
              "terminal by {#futyear} to cope with rising traffic, {$org1} "
              "said {$weekday}",
              "the opening of the new airport near {$capital} has been pushed "
              "back by another {#n} months because of problems with its "
              "baggage system, {$org1} said {$weekday}",
              "{$country} will lower speed limits on rural roads to {#nn} "
              "kilometres per hour {later}, the government said {$weekday}",
              "ferry services between {$city} and {$rival} will resume {later} "
              "after {#a_n}-month suspension, {$org1} said")},
    {"transport.event",
     GEN_ALTS(
         "the line {hedge} cut travel time between the two cities to "
         "under {#n} hours",
         "the union said the walkout would continue until the government "
         "returned to talks",
         "{$org2} advised travellers to check timetables before leaving "
         "home",
         "contractors will begin work on the first section {later}",
         "the ministry said it would review the airport's budget",
         "buses were laid on to replace some of the cancelled trains",
         "{$p2t} {$p2} said the new rules would save dozens of lives a "
         "year",
         "shipping lines have complained about delays of up to {#n} days "
         "at the port",
         "the government plans to sell a stake in the operator to private "
         "investors",
         "the terminal will be able to handle larger ships",
         "engineers will inspect all bridges on the route before it reopens",
         "the airport operator said it would pay compensation to airlines for "
         "the delay")},
    {"transport.fact",
     GEN_ALTS("about {#thou} passengers use the rail network every day",
              "the airport was originally due to open in {#lastyear}",
              "road deaths rose {#pct} percent last year",
              "the port handles about {#nn} percent of the country's foreign "
              "trade",
              "the current line between the two cities was built more than a "
              "century ago",
              "the ferry route was suspended after a vessel ran aground near "
              "{$city}",
              "the high-speed line was first proposed in {#oldyear}",
              "most of the country's freight still travels by road",
              "fares have risen {#pct} percent in the past two years")},
    {"transport.quote",
     GEN_ALTS("we cannot keep running a modern economy on a railway built for "
              "steam",
              "passengers deserve a service that arrives on time",
              "this delay is deeply frustrating for everyone involved",
              "slower roads are safer roads",
              "the port is the gateway to our economy",
              "our members have been left with no choice",
              "we want people to leave their cars at home")},
    {"transport.stat",
     GEN_ALTS("the project will create about {#thou} jobs during construction",
              "{#nn} percent of trains arrived on time last month",
              "container traffic rose {#pct} percent to {#thou} units in "
              "{$month}",
              "the cost of the airport has risen to {#money} {$currency}",
              "{#nnn} people died on the country's roads last year",
              "traffic on the motorway has doubled in {#nn} years")},
    {"transport.background",
     GEN_ALTS("the rail network has suffered from years of underinvestment "
              "and frequent breakdowns",
              "the airport project has been dogged by cost overruns and legal "
              "disputes",
              "traffic at the port of {$city} has grown steadily since a new "
              "trade route to {$rival} opened",
              "rail workers last went on strike in {#lastyear}",
              "the government has promised to connect every regional capital "
              "by rail by {#futyear}",
              "commuters in {$capital} have complained for years about "
              "overcrowded trains")},
    {"transport.caption",
     GEN_ALTS("riding a test train near {$city}",
              "inspecting the new terminal at the port of {$city}",
              "speaking at a railway station in {$capital}",
              "walking through the unfinished airport near {$capital}")},

    /* Topic: courts. */
    {"courts.title",
     GEN_ALTS("Justice Minister", "Chief Prosecutor", "Supreme Court President",
              "Defense Attorney", "Anti-Corruption Commissioner")},
    {"courts.org",
     GEN_ALTS("the Supreme Court", "the {$capital} District Court",
              "the Prosecutor General's Office", "the Anti-Corruption Bureau",
              "the Justice Ministry", "the Constitutional Court")},
    {"courts.noun",
     GEN_ALTS("the corruption trial", "the appeal", "the indictment",
              "the verdict", "judicial reform", "the bribery case")},
    {"courts.headline",
     GEN_ALTS("Former {$city} mayor sentenced to {#n} years for bribery",
              "Court rejects appeal in {$country} land case",
              "Prosecutors charge {#n} officials over procurement fraud",
              "{$country} parliament approves judicial reform",
              "Trial of former minister opens in {$capital}",
              "Top court to rule on election law {later}")},
    {"courts.lead",
     GEN_ALTS("a court in {$capital} sentenced a former mayor of {$city} to "
              "{#n} years in prison {$weekday} for accepting bribes from "
              "construction companies",
              "the Supreme Court of {$country} rejected an appeal {$weekday} "
              "by residents of {$city} seeking to stop the demolition of "
              "their homes",
              "prosecutors in {$country} charged {#n} officials {$weekday} "
              "with rigging public tenders worth {#money} {$currency}, "
              "{$org1} said",
              "the trial of a former {$adj} minister accused of embezzling "
              "public funds opened in {$capital} {$weekday} amid tight "
              "security",
              "parliament in {$country} approved a reform of the judiciary "
              "{$weekday} that will change how judges are appointed",
              "the Constitutional Court will rule {later} on whether the new "
              "election law is lawful, {$p1t} {$p1} {said} {$weekday}")},
    {"courts.event",
     GEN_ALTS("the defendant denied all charges and said he would appeal",
              "the court also ordered the seizure of assets worth {#money} "
              "{$currency}",
              "the next hearing is due to take place {later}",
              "{$p2t} {$p2} said the ruling set an important precedent",
              "the case has been closely watched by business groups",
              "prosecutors had sought {#a_nn}-year sentence",
              "lawyers for the accused said the evidence had been obtained "
              "illegally",
              "the verdict can be appealed to the Supreme Court within {#nn} "
              "days",
              "rights groups said the reform would weaken the independence of "
              "judges",
              "{$org2} opened a separate investigation into the payments",
              "the judge ordered that the defendant remain in custody until "
              "the appeal",
              "police searched the offices of {#n} construction firms as part "
              "of the inquiry")},
    {"courts.fact",
     GEN_ALTS("the former mayor led the city for {#n} years",
              "the case involves contracts signed between {#oldyear} and "
              "{#lastyear}",
              "the court has {#nn} judges, appointed for terms of {#n} years",
              "corruption cases in {$country} often take years to reach a "
              "verdict",
              "{#n} other defendants were acquitted",
              "the reform was a condition of a loan from international "
              "lenders",
              "the maximum sentence for bribery is {#nn} years in prison",
              "the anti-corruption bureau was created in {#oldyear} under "
              "pressure from foreign donors",
              "judges in {$country} are appointed by a council of lawyers and "
              "lawmakers")},
    {"courts.quote",
     GEN_ALTS("justice has been served",
              "my client is innocent and we will "
              "prove it",
              "no one is above the law",
              "this reform will restore public trust in the courts",
              "the ruling ignores the rights of the residents",
              "we will study the judgment carefully before deciding our next "
              "steps",
              "corruption steals from every citizen")},
    {"courts.stat",
     GEN_ALTS("{#nnn} officials were convicted of corruption last year",
              "the alleged losses to the state amount to {#money} {$currency}",
              "the backlog of pending cases has grown to {#thou}",
              "{#nn} witnesses are expected to testify",
              "the court imposed a fine of {#thou} {$currency}",
              "the trial is expected to last about {#n} months")},
    {"courts.background",
     GEN_ALTS("the government has promised to crack down on corruption since "
              "taking office",
              "the case began with a report by a local newspaper in {$city}",
              "{$country}'s courts have been criticised for slow proceedings",
              "the former minister left office in {#lastyear} amid allegations "
              "of misconduct",
              "the land dispute in {$city} dates back to a redevelopment plan "
              "approved in {#oldyear}",
              "several senior officials have been investigated over public "
              "tenders in the past {#n} years")},
    {"courts.caption", GEN_ALTS("arriving at the court in {$capital}",
                                "speaking to reporters outside the courthouse",
                                "leaving the prosecutor's office in {$capital}",
                                "addressing parliament on {@noun}")},

    /* Topic: domestic politics. */
    {"politics.title",
     GEN_ALTS("Prime Minister", "President", "Opposition Leader",
              "Interior Minister", "Speaker of Parliament",
              "Government Spokesperson")},
    {"politics.org",
     GEN_ALTS("the ruling {party}", "the opposition {party}",
              "the Election Commission", "the {$adj} parliament",
              "the presidential office", "the Interior Ministry")},
    {"politics.noun", GEN_ALTS("the coalition", "the budget vote",
                               "the election", "the cabinet reshuffle",
                               "the referendum", "the no-confidence motion")},
    {"politics.headline",
     GEN_ALTS("{$country} to hold early election in {$month_next}",
              "{$p1t} {$p1l} reshuffles cabinet",
              "Opposition files no-confidence motion in {$country}",
              "{$country} parliament passes budget after all-night session",
              "Protesters rally in {$capital} against new tax",
              "Coalition talks in {$country} enter {ordinal} week")},
    {"politics.lead",
     GEN_ALTS("{$country} will hold an early parliamentary election in "
              "{$month_next}, {$p1t} {$p1} {said} {$weekday}, after the "
              "governing coalition lost its majority",
              "{$p1t} {$p1} replaced {#n} ministers {$weekday} in the biggest "
              "cabinet reshuffle since taking office",
              "opposition parties in {$country} filed a motion of no "
              "confidence in the government {$weekday}, accusing it of "
              "mishandling the economy",
              "parliament in {$country} passed next year's budget early "
              "{$weekday} after an all-night session, by a vote of {#nn} to "
              "{#nn}",
              "thousands of people rallied in {$capital} {$weekday} to protest "
              "against a planned increase in fuel taxes, police said",
              "talks on forming a new coalition government in {$country} "
              "stalled {$weekday} over disagreements on tax policy, party "
              "officials said")},
    {"politics.event",
     GEN_ALTS("the vote {hedge} take place {later}",
              "the new ministers will be sworn in {later}",
              "{$p2t} {$p2} called the move a desperate attempt to cling to "
              "power",
              "police said the protest was largely peaceful",
              "the Election Commission said preparations were on schedule",
              "{$org2} said it would not support the budget without changes to "
              "pensions",
              "polls suggest the ruling party would lose its majority",
              "the president is expected to sign the budget within days",
              "organisers said another rally would be held {later}",
              "the two parties agreed to meet again {later}",
              "party leaders will hold a televised debate {later}",
              "the speaker of parliament postponed the session by a day")},
    {"politics.fact",
     GEN_ALTS("the coalition has governed since {#lastyear}",
              "the ruling party holds {#nn} of the {#nnn} seats in parliament",
              "turnout at the last election was {#nn} percent",
              "{$p1l} has led the party for {#n} years",
              "{$country} has had {#n} governments in the past decade",
              "the fuel tax increase was part of an agreement with "
              "international lenders",
              "the constitution requires an election at least every {#n} years",
              "the president can dissolve parliament only after a failed "
              "confidence vote",
              "the opposition has boycotted several sessions of parliament "
              "this year")},
    {"politics.quote",
     GEN_ALTS("the people deserve a government that can govern",
              "this is a budget for working families",
              "we will not be intimidated",
              "the country needs stability, not another crisis",
              "we are ready to take responsibility",
              "the government has lost the trust of the public",
              "our door is open to anyone who shares our goals")},
    {"politics.stat",
     GEN_ALTS("the budget foresees spending of {#money} {$currency}, with a "
              "deficit of {#pct} percent of output",
              "a recent poll put support for the government at {#nn} percent",
              "police estimated the crowd at about {#thou} people",
              "the motion needs {#nn} votes to pass",
              "{#n} parties are expected to enter parliament",
              "the government's majority has shrunk to {#n} seats")},
    {"politics.background",
     GEN_ALTS("the coalition has been weakened by disputes over pensions and "
              "taxes",
              "{$country} has been led by coalition governments for most of "
              "the past {#nn} years",
              "the last early election, in {#oldyear}, produced a hung "
              "parliament",
              "protests over living costs have spread from {$capital} to "
              "several other cities, including {$city}",
              "the government's popularity has fallen since it raised utility "
              "prices",
              "the ruling party has been in power, alone or in coalition, "
              "since {#oldyear}")},
    {"politics.caption",
     GEN_ALTS("speaking in parliament in {$capital}",
              "waving to supporters at a rally in {$city}",
              "arriving for a cabinet meeting in {$capital}",
              "casting a ballot in {$city}")},

    /* Topic: weather, climate and farming. */
    {"climate.title",
     GEN_ALTS("Agriculture Minister", "Chief Meteorologist",
              "Environment Minister", "Farmers Union President",
              "Emergency Services Director")},
    {"climate.org",
     GEN_ALTS("the National Weather Service", "the {$adj} Agriculture Ministry",
              "the Emergency Management Agency", "the Farmers Union",
              "the Environment Ministry", "the River Basin Authority")},
    {"climate.noun",
     GEN_ALTS("the drought", "the harvest", "flood defenses", "the heatwave",
              "crop losses", "water rationing", "the storm")},
    {"climate.headline",
     GEN_ALTS("Floods force evacuations near {$city}",
              "{$country} declares drought emergency in {#n} provinces",
              "Heatwave pushes temperatures to {#nn} degrees in {$city}",
              "Farmers in {$country} expect smaller wheat harvest",
              "Storm cuts power to thousands in {$city}",
              "{$country} to spend {#money} {$currency} on flood defenses")},
    {"climate.lead",
     GEN_ALTS("heavy rain caused rivers to burst their banks near {$city} "
              "{$weekday}, forcing about {#thou} people to leave their homes, "
              "{$org1} said",
              "{$country} declared a drought emergency in {#n} provinces "
              "{$weekday} after the driest spring in {#nn} years",
              "temperatures in {$city} reached {#nn} degrees Celsius "
              "{$weekday}, the highest since records began, {$org1} said",
              "farmers in {$country} expect this year's wheat harvest to fall "
              "by about {#nn} percent because of a lack of rain, {$org1} said "
              "{$weekday}",
              "a storm with winds of up to {#nnn} kilometres per hour swept "
              "across the coast near {$city} {$weekday}, cutting power to "
              "thousands of homes",
              "the government of {$country} will spend {#money} {$currency} "
              "over the next {#n} years to strengthen flood defenses along its "
              "main rivers, {$p1t} {$p1} {said} {$weekday}")},
    {"climate.event",
     GEN_ALTS(
         "rescue teams used boats to reach residents trapped in their "
         "homes",
         "water use will be restricted to certain hours of the day",
         "{$org2} warned that more rain was expected {later}",
         "the ministry will compensate farmers for part of their losses",
         "schools in the affected areas were closed",
         "{$p2t} {$p2} visited the flooded areas and promised help",
         "authorities opened cooling centres for elderly residents",
         "repair crews worked through the night to restore power",
         "the government asked neighbouring countries for firefighting "
         "aircraft",
         "the new barriers {hedge} be finished by {#futyear}",
         "volunteers filled sandbags along the river banks through the night",
         "the army sent {#nnn} soldiers to help with the clean-up")},
    {"climate.fact",
     GEN_ALTS("the river rose {#n} metres in less than a day",
              "rainfall since {$month} has been {#nn} percent below average",
              "agriculture employs about {#nn} percent of the workforce",
              "{$city} was last hit by major flooding in {#oldyear}",
              "the region grows most of the country's wheat and sunflowers",
              "reservoirs are at {#nn} percent of capacity",
              "the last comparable drought was recorded in {#oldyear}",
              "the weather service issues warnings in four colours, red being "
              "the highest",
              "about a third of the country's farmland depends on irrigation")},
    {"climate.quote",
     GEN_ALTS("we have never seen water levels like this",
              "farmers are losing their crops and their savings",
              "people should stay indoors during the hottest hours",
              "the climate is changing faster than our infrastructure",
              "our teams are working around the clock",
              "we will not leave anyone behind",
              "every drop of water counts this summer")},
    {"climate.stat",
     GEN_ALTS("damage is estimated at {#money} {$currency}",
              "{#nnn} millimetres of rain fell in {#nn} hours",
              "about {#thou} hectares of farmland were affected",
              "{#nn} people were treated in hospital for heat-related illness",
              "the harvest is forecast at {#n} million tonnes",
              "insurers have received more than {#thou} claims")},
    {"climate.background",
     GEN_ALTS("the region has suffered a series of dry summers in recent "
              "years",
              "flood defenses around {$city} were built in the {decade} and "
              "have not been upgraded since",
              "{$country}'s farmers have called for more support to cope with "
              "extreme weather",
              "scientists say heatwaves in the region have become more "
              "frequent",
              "a similar storm in {#lastyear} caused widespread damage along "
              "the coast",
              "the government was criticised for its slow response to floods "
              "{#n} years ago")},
    {"climate.caption", GEN_ALTS("walking through a flooded street in {$city}",
                                 "inspecting a dry field near {$city}",
                                 "speaking to farmers outside {$city}",
                                 "visiting an emergency shelter in {$city}")},
};

/*
 * Word pairs that a copy editor swaps when a story is republished. Each is
 * used in both directions; only whole, lower-case words are matched.
 */
static const char *const gen_swaps[][2] = {
    {"said", "stated"},
    {"officials", "authorities"},
    {"talks", "negotiations"},
    {"plan", "proposal"},
    {"government", "administration"},
    {"meeting", "session"},
    {"expected", "anticipated"},
    {"about", "around"},
    {"residents", "locals"},
    {"percent", "per cent"},
    {"begin", "start"},
    {"began", "started"},
    {"cut", "reduce"},
    {"rose", "climbed"},
    {"fell", "dropped"},
    {"sharply", "steeply"},
    {"country", "nation"},
    {"announced", "unveiled"},
    {"review", "examination"},
    {"warned", "cautioned"},
    {"closely", "carefully"},
    {"help", "assistance"},
    {"held", "conducted"},
    {"urged", "called on"},
    {"largest", "biggest"},
    {"criticised", "criticized"},
    {"modernise", "modernize"},
    {"kilometres", "km"},
    {"discuss", "address"},
    {"strike", "walkout"},
};

#endif
