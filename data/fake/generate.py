#!/usr/bin/env python3
"""data/fake/generate.py: write the compositional dictionaries of the
substitute strategy (streets.txt, cities.txt, companies.txt, domains.txt).

The word parts below were written for this project; the script combines
them with a fixed seed, so running it again gives the same files.  The name
lists (first_names.txt, last_names.txt) are edited by hand.

Usage: python3 data/fake/generate.py   (writes next to this script)
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

TREES = ["Maple", "Oak", "Cedar", "Birch", "Willow", "Elm", "Aspen", "Hazel",
         "Juniper", "Linden", "Poplar", "Rowan", "Spruce", "Sycamore", "Alder",
         "Chestnut", "Hawthorn", "Magnolia", "Pine", "Laurel", "Cypress",
         "Holly", "Ivy", "Olive", "Acacia", "Beech", "Hickory", "Walnut"]
NATURE = ["Meadow", "River", "Brook", "Lake", "Hill", "Valley", "Ridge",
          "Forest", "Harbor", "Bay", "Field", "Spring", "Stone", "Summit",
          "Glen", "Orchard", "Prairie", "Canyon", "Cliff", "Dune", "Marsh",
          "Falls", "Grove", "Heath", "Moor", "Shore", "Island", "Haven"]
PEOPLE = ["Franklin", "Jefferson", "Lincoln", "Madison", "Washington",
          "Wellington", "Victoria", "Albert", "Churchill", "Darwin", "Newton",
          "Kepler", "Curie", "Tesla", "Lovelace", "Hopper", "Nightingale",
          "Austen", "Bronte", "Dickens", "Tolstoy", "Cervantes", "Goethe",
          "Mozart", "Chopin", "Verdi", "Sibelius", "Dvorak", "Grieg",
          "Mandela", "Tagore", "Neruda", "Marquez", "Achebe", "Kahlo"]
ORDINAL = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh",
           "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth"]
MISC = ["Main", "High", "Market", "Church", "Mill", "Bridge", "Station",
        "Park", "School", "Garden", "Castle", "King", "Queen", "Prospect",
        "Union", "Liberty", "Commerce", "Sunset", "Sunrise", "Highland",
        "Lakeview", "Riverside", "Fairview", "Pleasant", "Center", "College",
        "Harvest", "Lantern", "Beacon", "Copper", "Silver", "Golden",
        "Amber", "Crystal", "Falcon", "Heron", "Sparrow", "Robin", "Fox",
        "Badger", "Otter", "Deer"]
SUFFIXES = ["Street", "Avenue", "Road", "Lane", "Drive", "Court", "Place",
            "Way", "Boulevard", "Terrace", "Close", "Crescent", "Row", "Walk",
            "Square", "Parkway", "Trail", "Circle"]

CITY_START = ["Ash", "Bel", "Black", "Bright", "Brook", "Cald", "Cam", "Clear",
              "Cold", "Cran", "Dal", "Dun", "East", "Elm", "Fair", "Fal",
              "Fern", "Glen", "Gold", "Green", "Hal", "Hart", "Haw", "High",
              "Hol", "King", "Lang", "Lin", "Long", "Lyn", "Mar", "Mel",
              "Mid", "Mill", "New", "North", "Oak", "Pen", "Red", "Ros",
              "Salt", "Sand", "Shel", "Silver", "South", "Stan", "Stone",
              "Sun", "Thorn", "Wal", "West", "White", "Wil", "Win", "Wood",
              "Alt", "Berg", "Neu", "Rosen", "Lind", "Val", "Mont", "Bel",
              "Villa", "San", "Porto", "Nova", "Vester", "Øster"]
CITY_END = ["bridge", "brook", "burg", "bury", "by", "caster", "combe", "dale",
            "den", "field", "ford", "gate", "ham", "haven", "hill", "holm",
            "hurst", "ley", "mere", "minster", "mouth", "port", "stead",
            "stoke", "ton", "vale", "ville", "wick", "wood", "worth",
            "stadt", "dorf", "hausen", "heim", "berg", "feld", "court",
            "mont", "lund", "vik", "strand", "sund"]
CITY_PREFIX = ["", "", "", "", "", "", "Port ", "Lake ", "Mount ", "East ",
               "West ", "North ", "South ", "Upper ", "Lower ", "Great ",
               "Little ", "New "]
CITY_POSTFIX = ["", "", "", "", "", "", "", " Springs", " Falls", " Heights",
                " Junction", " Harbor", " Crossing", " Park", " on Sea",
                " Valley"]

CO_WORDS = ["Northwind", "Bluepeak", "Silverline", "Redwood", "Brightwater",
            "Ironbridge", "Starfield", "Greenleaf", "Stonegate", "Clearview",
            "Highpoint", "Oakridge", "Riverstone", "Suncrest", "Wavecrest",
            "Goldfinch", "Blackstone", "Whitehall", "Evergreen", "Crosswind",
            "Lighthouse", "Keystone", "Pinecone", "Meridian", "Polaris",
            "Zenith", "Horizon", "Summit", "Cascade", "Granite", "Sapphire",
            "Emerald", "Cobalt", "Copperleaf", "Driftwood", "Foxglove",
            "Harborview", "Larkspur", "Moonstone", "Nimbus", "Orchid",
            "Quarry", "Saltmarsh", "Tidewater", "Umber", "Vantage",
            "Westbrook", "Yellowpine", "Alpine", "Beacon", "Compass",
            "Delta", "Ember", "Fjord", "Glacier", "Halcyon", "Indigo",
            "Juniper", "Kestrel", "Lumen"]
CO_TRADES = ["Logistics", "Analytics", "Foods", "Systems", "Consulting",
             "Energy", "Health", "Robotics", "Software", "Textiles",
             "Capital", "Insurance", "Media", "Pharma", "Motors",
             "Construction", "Engineering", "Design", "Labs", "Networks",
             "Outfitters", "Bakery", "Brewing", "Dental", "Freight",
             "Hotels", "Interiors", "Marine", "Optics", "Packaging",
             "Print", "Realty", "Solar", "Telecom", "Travel", "Ventures",
             "Water", "Wellness", "Books", "Coffee", "Tools", "Studios"]
CO_FORMS = ["Ltd", "Inc.", "LLC", "GmbH", "S.A.", "B.V.", "AB", "Oy",
            "S.r.l.", "Co.", "Group", "Partners", "& Co.", "plc", "AG",
            "SAS", "Pty Ltd", "K.K."]
SURNAMES = ["Abara", "Bakker", "Bianchi", "Castillo", "Dubois", "Eriksen",
            "Fischer", "Gallagher", "Haddad", "Ivanov", "Jensen", "Kowalski",
            "Lindqvist", "Mensah", "Nakamura", "Okafor", "Patel", "Quispe",
            "Romano", "Schmidt", "Tanaka", "Varga", "Wong", "Yilmaz",
            "Zimmermann", "Moreau", "Silva", "Hughes", "Novak", "Reddy"]

DOMAIN_WORDS = ["mail", "post", "inbox", "letters", "connect", "net", "web",
                "online", "cloud", "home", "office", "team", "hub", "link",
                "box", "direct", "now", "zone", "point", "base"]


def streets(rng):
    out = set()
    bases = TREES + NATURE + PEOPLE + ORDINAL + MISC
    for b in bases:
        for s in rng.sample(SUFFIXES, 6):
            out.add(f"{b} {s}")
    for a in rng.sample(TREES, 12):
        for b in rng.sample(["Hill", "Park", "Grove", "Field", "Brook",
                             "Wood", "Dale", "View"], 3):
            out.add(f"{a} {b} {rng.choice(SUFFIXES)}")
    return sorted(out)


def cities(rng):
    out = set()
    while len(out) < 900:
        name = rng.choice(CITY_START) + rng.choice(CITY_END)
        name = name[0] + name[1:].lower() if name[1:].lower() != name[1:] else name
        full = rng.choice(CITY_PREFIX) + name + rng.choice(CITY_POSTFIX)
        out.add(full)
    return sorted(out)


def companies(rng):
    out = set()
    while len(out) < 1200:
        form = rng.random()
        if form < 0.55:
            name = f"{rng.choice(CO_WORDS)} {rng.choice(CO_TRADES)} {rng.choice(CO_FORMS)}"
        elif form < 0.8:
            a, b = rng.sample(SURNAMES, 2)
            name = f"{a} & {b} {rng.choice(CO_FORMS)}"
        else:
            name = f"{rng.choice(SURNAMES)} {rng.choice(CO_TRADES)}"
        out.add(name.replace("& Co. & Co.", "& Co."))
    return sorted(out)


def domains(rng):
    # Only reserved names (RFC 2606/6761): example.com/.net/.org and the
    # .example and .test top-level domains, so no fake address can reach
    # anyone.
    out = {"example.com", "example.net", "example.org"}
    for w in DOMAIN_WORDS:
        out.add(f"{w}.example.com")
        out.add(f"{w}.example.net")
        out.add(f"{w}.example.org")
    for w in CO_WORDS:
        out.add(f"{w.lower()}.example")
    for w in rng.sample(CO_WORDS, 30):
        out.add(f"{w.lower()}-{rng.choice(CO_TRADES).lower()}.test")
    return sorted(out)


def write(name, header, items):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        f.write(f"# {name}: {header}\n")
        f.write("# Generated by data/fake/generate.py from word parts written\n")
        f.write("# for this project.  One entry a line, UTF-8; '#' lines and\n")
        f.write("# blank lines are ignored.\n")
        for i in items:
            f.write(i + "\n")


def main():
    rng = random.Random(20240611)
    write("streets.txt", "street names for fake addresses.", streets(rng))
    write("cities.txt", "fictional city and town names.", cities(rng))
    write("companies.txt", "fictional company names.", companies(rng))
    write("domains.txt", "reserved or clearly fake e-mail domains.",
          domains(rng))


if __name__ == "__main__":
    main()
