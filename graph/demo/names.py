"""Fictional names and languages for demo people.

Names are drawn from a heritage group (first and last names that belong together),
chosen with weights that depend on where the person lives: mixed everywhere, and
very mixed in North America. Any resemblance to real people is coincidental.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NameGroup:
    """First and last names that go together, and the heritage language they suggest."""

    first: tuple[str, ...]
    last: tuple[str, ...]
    languages: tuple[str, ...]


def _group(first: str, last: str, languages: str) -> NameGroup:
    return NameGroup(tuple(first.split(", ")), tuple(last.split(", ")), tuple(languages.split()))


NAME_GROUPS: dict[str, NameGroup] = {
    "anglo": _group(
        "Emma, Liam, Olivia, Noah, Grace, Owen, Hannah, Caleb, Ruth, Miles, Clara, Declan, "
        "Naomi, Wyatt",
        "Walker, Bennett, Hughes, Carter, Sullivan, Brooks, Fletcher, Gallagher, Morgan, "
        "Reid, Hayes, Parker, Doyle, Ellison",
        "en",
    ),
    "hispanic": _group(
        "Lucía, Mateo, Camila, Diego, Valentina, Andrés, Ximena, Joaquín, Rosa, Emilio, "
        "Paloma, Rafael, Inés, Tomás",
        "García, Hernández, Morales, Castillo, Ortega, Ramírez, Vargas, Delgado, Navarro, "
        "Fuentes, Salazar, Romero, Aguilar, Cruz",
        "es",
    ),
    "brazilian": _group(
        "João, Ana, Thiago, Beatriz, Rafaela, Caio, Larissa, Vinícius",
        "Silva, Oliveira, Souza, Pereira, Costa, Carvalho, Almeida, Ribeiro",
        "pt",
    ),
    "chinese": _group(
        "Wei, Mei, Jun, Lian, Hao, Xiu, Chen, Ying",
        "Chen, Wang, Li, Zhang, Liu, Huang, Zhou, Lin",
        "zh",
    ),
    "japanese": _group(
        "Haruka, Kenji, Yui, Sota, Aiko, Ren, Emi, Daichi",
        "Tanaka, Suzuki, Sato, Nakamura, Yamamoto, Kobayashi, Ito, Mori",
        "ja",
    ),
    "korean": _group(
        "Ji-woo, Min-jun, Seo-yeon, Hyun, Eun-ji, Tae-yang, Soo-ah, Jin",
        "Kim, Park, Choi, Jung, Kang, Yoon, Han, Lim",
        "ko",
    ),
    "south_asian": _group(
        "Priya, Arjun, Ananya, Rohan, Kavya, Vikram, Meera, Sanjay, Lakshmi, Aditya, Nisha, Farhan",
        "Sharma, Patel, Iyer, Reddy, Chowdhury, Nair, Banerjee, Rao, Menon, Kapoor, Qureshi, Das",
        "hi bn ta ur",
    ),
    "punjabi": _group(
        "Harpreet, Gurpreet, Simran, Manjit, Jaspreet, Amrit",
        "Singh, Kaur, Sandhu, Gill, Dhillon, Sidhu",
        "pa",
    ),
    "west_african": _group(
        "Chiamaka, Kwame, Adaeze, Kofi, Ngozi, Oluwaseun, Abena, Tunde, Fatou, Moussa",
        "Okonkwo, Mensah, Adeyemi, Boateng, Okafor, Diallo, Asante, Ndiaye, Balogun, Owusu",
        "yo ig ak wo",
    ),
    "east_african": _group(
        "Amani, Wanjiru, Baraka, Nia, Juma, Achieng, Tesfaye, Makeda",
        "Otieno, Mwangi, Kamau, Njoroge, Mutua, Wambui, Bekele, Haile",
        "sw am",
    ),
    "southern_african": _group(
        "Thandiwe, Sipho, Lerato, Themba, Naledi, Tendai",
        "Dlamini, Nkosi, Mokoena, Moyo, Ndlovu, Khumalo",
        "zu sn tn",
    ),
    "arabic": _group(
        "Layla, Omar, Yasmin, Karim, Nour, Tariq, Salma, Samir, Rania, Hassan",
        "Haddad, Khalil, Mansour, Nasser, Saleh, Farouk, Aziz, Hamdan, Khoury, Rahman",
        "ar",
    ),
    "persian_turkish": _group(
        "Shirin, Dariush, Parisa, Kaveh, Elif, Emre, Zeynep, Arash",
        "Tehrani, Karimi, Hosseini, Rostami, Yilmaz, Demir, Aydin, Kaya",
        "fa tr",
    ),
    "european": _group(
        "Sophie, Lukas, Chiara, Matteo, Amélie, Jonas, Ingrid, Pieter, Elena, Henrik, "
        "Margaux, Stefan",
        "Dubois, Müller, Rossi, Bianchi, Lefèvre, Schneider, Jansen, Lindqvist, Moreau, "
        "Fischer, de Vries, Hansen",
        "fr de it nl sv da",
    ),
    "slavic": _group(
        "Olena, Dmytro, Katarzyna, Piotr, Anya, Mikhail, Zofia, Taras",
        "Kowalski, Shevchenko, Nowak, Petrenko, Ivanova, Wiśniewska, Bondarenko, Zielinski",
        "pl uk ru",
    ),
    "southeast_asian": _group(
        "Linh, Minh, Maria Clara, Jose, Siti, Arif, Somchai, Mali, Bao, Rizal",
        "Nguyen, Tran, Santos, Reyes, Wijaya, Rahmat, Srisuk, Bautista, Pham, Dela Cruz",
        "vi tl id th",
    ),
    "hmong": _group(
        "Pa Nhia, Tou, Mai, Kou, Yia, Nou",
        "Vang, Xiong, Lee, Thao, Yang, Moua",
        "hmn",
    ),
    "pacific": _group(
        "Mere, Tane, Losana, Sione, Aroha, Ratu",
        "Ngata, Tuilagi, Fifita, Naidu, Waititi, Rabuka",
        "mi fj to",
    ),
}

_MIXED = {"anglo": 3.0, "hispanic": 2.0, "european": 1.0, "south_asian": 1.0,
          "chinese": 0.8, "west_african": 0.8, "arabic": 0.6, "southeast_asian": 0.8,
          "korean": 0.4, "japanese": 0.4, "slavic": 0.5, "persian_turkish": 0.3}  # fmt: skip
_CALIFORNIA = {**_MIXED, "hispanic": 3.5, "hmong": 0.8, "punjabi": 0.8, "slavic": 0.8}

# Name-group weights by country; countries not listed use their world region's mix.
COUNTRY_GROUPS: dict[str, dict[str, float]] = {
    "MX": {"hispanic": 9, "anglo": 0.3}, "CO": {"hispanic": 9}, "EC": {"hispanic": 9},
    "PE": {"hispanic": 9}, "AR": {"hispanic": 8, "european": 1}, "CL": {"hispanic": 9},
    "JM": {"anglo": 4, "west_african": 3}, "BR": {"brazilian": 9, "european": 0.5},
    "GB": {"anglo": 6, "south_asian": 1.5, "west_african": 0.8, "european": 0.8},
    "IE": {"anglo": 8, "european": 1}, "ES": {"hispanic": 8, "european": 1}, "PL": {"slavic": 9},
    "TR": {"persian_turkish": 8}, "IR": {"persian_turkish": 9}, "EG": {"arabic": 9},
    "JO": {"arabic": 9}, "LB": {"arabic": 8},
    "AE": {"arabic": 4, "south_asian": 3, "southeast_asian": 1}, "PK": {"south_asian": 9},
    "IN": {"south_asian": 9, "punjabi": 1}, "NP": {"south_asian": 9}, "BD": {"south_asian": 9},
    "LK": {"south_asian": 9}, "NG": {"west_african": 9}, "GH": {"west_african": 9},
    "SN": {"west_african": 9}, "ET": {"east_african": 9}, "KE": {"east_african": 9},
    "UG": {"east_african": 9}, "RW": {"east_african": 9}, "TZ": {"east_african": 9},
    "ZW": {"southern_african": 9}, "ZA": {"southern_african": 6, "anglo": 2},
    "BW": {"southern_african": 9}, "CN": {"chinese": 9}, "HK": {"chinese": 9},
    "TW": {"chinese": 9}, "JP": {"japanese": 9}, "KR": {"korean": 9},
    "TH": {"southeast_asian": 9}, "MY": {"southeast_asian": 6, "chinese": 3},
    "SG": {"chinese": 5, "southeast_asian": 3, "south_asian": 2}, "ID": {"southeast_asian": 9},
    "PH": {"southeast_asian": 9}, "FJ": {"pacific": 6, "south_asian": 3}, "PG": {"pacific": 9},
    "NZ": {"anglo": 5, "pacific": 3, "chinese": 1},
    "AU": {"anglo": 6, "chinese": 1, "southeast_asian": 1, "south_asian": 1, "european": 1},
}  # fmt: skip
REGION_GROUPS: dict[str, dict[str, float]] = {
    "Northern America": _MIXED,
    "Europe": {"european": 7, "anglo": 1, "arabic": 0.7, "slavic": 1, "persian_turkish": 0.5},
    "Latin America and the Caribbean": {"hispanic": 8, "brazilian": 1},
    "Africa": {"west_african": 3, "east_african": 3, "southern_african": 2, "arabic": 1},
    "Asia": {"south_asian": 3, "chinese": 2, "southeast_asian": 2, "arabic": 1},
    "Oceania": {"anglo": 4, "pacific": 3},
}
CALIFORNIA_GROUPS = _CALIFORNIA

# The language people of a country are assumed to speak first.
COUNTRY_LANGUAGES: dict[str, str] = {
    "US": "en", "CA": "en", "GB": "en", "IE": "en", "AU": "en", "NZ": "en", "JM": "en",
    "MX": "es", "CO": "es", "EC": "es", "PE": "es", "AR": "es", "CL": "es", "ES": "es",
    "BR": "pt", "FR": "fr", "SN": "fr", "DE": "de", "AT": "de", "NL": "nl", "IT": "it",
    "SE": "sv", "DK": "da", "PL": "pl", "TR": "tr", "IR": "fa", "EG": "ar", "JO": "ar",
    "LB": "ar", "AE": "ar", "PK": "ur", "IN": "hi", "NP": "ne", "BD": "bn", "LK": "si",
    "NG": "en", "GH": "en", "ET": "am", "KE": "sw", "UG": "en", "RW": "rw", "TZ": "sw",
    "ZW": "en", "ZA": "en", "BW": "en", "CN": "zh", "HK": "zh", "TW": "zh", "JP": "ja",
    "KR": "ko", "TH": "th", "MY": "ms", "SG": "en", "ID": "id", "PH": "tl", "FJ": "en",
    "PG": "en",
}  # fmt: skip
