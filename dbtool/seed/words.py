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
