"""Word lists that make generated values look like data: packaged, no network, no model."""

from __future__ import annotations

FIRST_NAMES = (
    "Ada", "Ben", "Cleo", "Dev", "Elif", "Femi", "Gus", "Hana", "Ines", "Jon", "Kai", "Lena", "Milo", "Nora",
    "Omar", "Pia", "Quinn", "Ravi", "Sara", "Tom", "Uma", "Vic", "Wen", "Xena", "Yusuf", "Zoe", "Aiko", "Bruno",
    "Chen", "Dara", "Emil", "Farah",
)
LAST_NAMES = (
    "Abe", "Baker", "Costa", "Dubois", "Eze", "Fox", "Gray", "Hill", "Ivanov", "Jensen", "Kaur", "Lind", "Mora",
    "Nakamura", "Olsen", "Park", "Quist", "Reyes", "Singh", "Tan", "Ueda", "Vogel", "Ward", "Xu", "Young", "Zeller",
    "Alves", "Brandt", "Cho", "Diallo", "Evers", "Ford",
)
CITIES = (
    "Lisbon", "Oslo", "Nairobi", "Osaka", "Lima", "Porto", "Austin", "Leeds", "Lyon", "Pune", "Perth", "Quebec",
    "Bergen", "Cusco", "Dakar", "Graz",
)
COUNTRIES = ("PT", "NO", "KE", "JP", "PE", "US", "GB", "FR", "IN", "AU", "CA", "DE", "SN", "AT", "BR", "NL")
STREETS = ("Main St", "Oak Ave", "Harbor Rd", "Mill Ln", "Park Way", "Station Rd", "Elm St", "Bridge St")
WORDS = (
    "amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper", "kestrel", "lumen",
    "maple", "nova", "orbit", "pine", "quartz", "river", "summit", "tide", "umber", "vale", "willow", "zephyr",
)
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "NOK", "BRL", "INR", "AUD")
COLORS = ("red", "green", "blue", "amber", "teal", "violet", "gray", "black")
DOMAINS = ("example.test", "mail.test", "corp.test")

# Names of things, by what a table holds (see plan.NAME_KINDS): written for dbtool, reviewed by hand.
PRODUCT_ADJECTIVES = (
    "Compact", "Classic", "Everyday", "Deluxe", "Lightweight", "Organic", "Portable", "Rustic", "Sturdy", "Slim",
    "Vintage", "Wireless", "Foldable", "Insulated", "Handmade", "Modern",
)
PRODUCT_MATERIALS = ("Steel", "Oak", "Cotton", "Ceramic", "Bamboo", "Leather", "Glass", "Wool", "Copper", "Linen")
PRODUCT_NOUNS = (
    "Kettle", "Backpack", "Lamp", "Mug", "Notebook", "Chair", "Blanket", "Headphones", "Water Bottle", "Desk",
    "Jacket", "Teapot", "Cutting Board", "Planter", "Umbrella", "Wallet", "Speaker", "Candle", "Towel", "Shelf",
)
COMPANY_WORDS = (
    "Northwind", "Bluepeak", "Ironbridge", "Clearwater", "Redwood", "Silverline", "Greenfield", "Brightstone",
    "Oakridge", "Summit", "Harborview", "Westgate", "Stonebrook", "Highland", "Riverside", "Lakeshore",
)
COMPANY_TRADES = ("Logistics", "Foods", "Analytics", "Studio", "Supply", "Labs", "Partners", "Systems", "Media", "Works")
COMPANY_SUFFIXES = ("Ltd", "Inc", "GmbH", "LLC", "Co", "Group")
CATEGORY_NAMES = (
    "Kitchen", "Garden", "Books", "Toys", "Outdoor", "Office", "Electronics", "Bath", "Lighting", "Furniture",
    "Pet Supplies", "Sports", "Beauty", "Tools", "Stationery", "Music", "Travel", "Baby", "Crafts", "Groceries",
)
CATEGORY_QUALIFIERS = ("Home", "Kids", "Outdoor", "Everyday", "Premium", "Seasonal", "Eco", "Travel")
TITLE_ADJECTIVES = (
    "Quarterly", "Weekly", "Annual", "Spring", "Summer", "Autumn", "Winter", "Weekend", "Launch", "Member",
    "Flash", "Holiday", "Clearance", "Welcome", "Loyalty", "Team",
)
TITLE_NOUNS = (
    "Review", "Sale", "Update", "Report", "Meeting", "Offer", "Plan", "Roadmap", "Workshop", "Newsletter",
    "Retrospective", "Checklist", "Briefing", "Event", "Campaign", "Summary",
)
DESCRIPTION_OPENERS = (
    "Built to last", "Made for everyday use", "A customer favourite", "Designed in small batches",
    "Easy to clean", "Ready for travel", "Gentle on the planet", "Tested by our team",
)
DESCRIPTION_DETAILS = (
    "with a soft matte finish", "in three sizes", "with a two-year warranty", "from recycled materials",
    "that fits in any bag", "with free returns", "in a gift box", "with replaceable parts",
)
COUNTRY_NAMES = (
    "Portugal", "Norway", "Kenya", "Japan", "Peru", "United States", "United Kingdom", "France", "India",
    "Australia", "Canada", "Germany", "Senegal", "Austria", "Brazil", "Netherlands",
)
SKU_PREFIXES = ("KIT", "GAR", "BOK", "TOY", "OUT", "OFF", "ELE", "BTH", "LGT", "FUR", "PET", "SPT")
STATUSES = ("active", "pending", "active", "completed", "active", "cancelled")  # a status no CHECK lists: mostly active
