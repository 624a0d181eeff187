"""Vocabularies of the demo network: sector themes, roles, skills and community issues.

Written for this project. Themes are concrete grassroots practices (what a person
would type as an interest); skills are shared by offers and needs, so that one
person's need can be met by another's offer. Keys are the sector slugs of
``data/sectors.json``; a sector missing here falls back to its keywords.
"""

from __future__ import annotations

SECTOR_THEMES: dict[str, tuple[str, ...]] = {
    "arts": (
        "community murals", "storytelling circles", "theatre for social change",
        "music for healing", "youth arts programmes", "public art for reconciliation",
        "poetry workshops", "documentary film for social change", "arts in hospitals",
        "dance and movement for wellbeing", "creative placemaking", "art therapy",
    ),
    "business": (
        "compassionate leadership", "social enterprise", "fair trade supply chains",
        "worker cooperatives", "impact investing", "mindful workplaces", "micro-lending",
        "ethical marketing", "local economy networks", "employee wellbeing",
        "inclusive hiring", "circular business models",
    ),
    "education": (
        "social-emotional learning", "youth mentoring", "compassionate schools",
        "teacher wellbeing", "literacy programmes", "peer tutoring",
        "anti-bullying programmes", "early childhood development", "adult education",
        "service learning", "open educational resources", "mindfulness in classrooms",
    ),
    "environment": (
        "community gardens", "urban tree planting", "climate action",
        "watershed restoration", "zero waste", "environmental justice",
        "renewable energy co-ops", "regenerative agriculture", "wildlife corridors",
        "repair cafés", "climate education", "clean air monitoring",
    ),
    "gender-partnerships": (
        "girls' education", "ending gender-based violence", "women's leadership",
        "maternal health", "economic empowerment of women", "LGBTQ+ inclusion",
        "menstrual equity", "safe spaces for girls", "fathers as caregivers",
        "women in peacebuilding", "equal pay advocacy", "mentoring young women",
    ),
    "health": (
        "trauma-informed care", "mental health first aid", "community health workers",
        "equitable health care", "palliative care", "addiction recovery",
        "nutrition education", "caregiver support", "compassion in medicine",
        "suicide prevention", "health literacy", "disability inclusion",
    ),
    "peace": (
        "conflict resolution", "nonviolent communication", "violence interruption",
        "peace education", "refugee welcome", "intercultural dialogue",
        "gang intervention", "peace circles", "reconciliation after conflict",
        "bystander training", "cross-border friendship", "de-escalation training",
    ),
    "restorative-justice": (
        "restorative circles in schools", "victim-offender dialogue", "prison education",
        "reentry support", "youth diversion programmes", "community conferencing",
        "restorative practices training", "juvenile justice reform",
        "family group conferencing", "healing circles", "alternatives to suspension",
        "restorative policing",
    ),
    "science-research": (
        "citizen science", "open data", "research on compassion", "science communication",
        "participatory research", "public health data", "evaluation of social programmes",
        "STEM outreach", "neuroscience of empathy", "environmental monitoring",
        "ethics of technology", "community-based research",
    ),
    "social-justice": (
        "racial equity", "immigrant rights", "affordable housing", "voting access",
        "workers' rights", "environmental racism", "language access",
        "police accountability", "disability rights", "food justice", "indigenous rights",
        "anti-poverty advocacy",
    ),
    "social-services": (
        "homelessness services", "food banks", "elder care", "foster care support",
        "loneliness of elders", "youth shelters", "domestic violence shelters",
        "volunteer coordination", "disaster relief", "benefits navigation", "home visiting",
        "refugee resettlement",
    ),
    "spirituality": (
        "interfaith dialogue", "contemplative practice", "compassion meditation",
        "chaplaincy", "faith-based service", "pilgrimage and reflection",
        "sacred activism", "grief support", "spiritual care for the dying",
        "interfaith youth service", "loving-kindness practice", "faith communities for climate",
    ),
}  # fmt: skip

SECTOR_ROLES: dict[str, tuple[str, ...]] = {
    "arts": ("muralist", "theatre director", "community musician", "art therapist", "poet"),
    "business": ("social entrepreneur", "co-op manager", "HR lead", "small-business owner",
                 "impact investor"),
    "education": ("teacher", "school counsellor", "literacy volunteer", "youth worker",
                  "university lecturer"),
    "environment": ("urban farmer", "climate organiser", "park ranger", "ecologist",
                    "energy co-op volunteer"),
    "gender-partnerships": ("women's rights advocate", "midwife", "girls' club leader",
                            "gender trainer", "shelter coordinator"),
    "health": ("nurse", "family doctor", "community health worker", "psychotherapist",
               "hospice volunteer"),
    "peace": ("mediator", "peace educator", "violence interrupter", "refugee caseworker",
              "dialogue facilitator"),
    "restorative-justice": ("restorative practitioner", "probation officer", "circle keeper",
                            "prison educator", "youth advocate"),
    "science-research": ("researcher", "data scientist", "science teacher", "epidemiologist",
                         "lab technician"),
    "social-justice": ("community organiser", "tenant advocate", "civil rights lawyer",
                       "union organiser", "policy analyst"),
    "social-services": ("social worker", "food bank coordinator", "case manager",
                        "elder care aide", "shelter volunteer"),
    "spirituality": ("chaplain", "meditation teacher", "imam", "rabbi", "pastor"),
}  # fmt: skip

# How the sector reads inside a sentence ("works in ...").
SECTOR_PHRASES: dict[str, str] = {
    "arts": "the arts",
    "business": "compassionate business",
    "education": "education",
    "environment": "environmental work",
    "gender-partnerships": "gender partnerships",
    "health": "health and healing",
    "peace": "peacebuilding",
    "restorative-justice": "restorative justice",
    "science-research": "science and research",
    "social-justice": "social justice",
    "social-services": "social services",
    "spirituality": "spiritual and interfaith life",
}

SECTOR_WEIGHTS: dict[str, float] = {
    "education": 1.5, "health": 1.4, "environment": 1.3, "social-services": 1.1,
    "social-justice": 1.1, "spirituality": 1.0, "peace": 0.9, "arts": 0.9,
    "restorative-justice": 0.8, "gender-partnerships": 0.8, "business": 0.7,
    "science-research": 0.6,
}  # fmt: skip

SKILLS: tuple[str, ...] = (
    "grant writing", "facilitation", "web design", "translation", "mentoring",
    "fundraising", "event planning", "social media", "graphic design", "data analysis",
    "project management", "community organising", "public speaking", "legal advice",
    "bookkeeping", "video production", "photography", "curriculum design",
    "research methods", "volunteer management", "coaching", "mediation", "policy writing",
    "software development", "journalism", "counselling", "teaching",
    "partnership building", "impact evaluation", "copy editing", "workshop design",
    "training trainers",
)  # fmt: skip

# Issues a community may name when it starts a campaign, with the goals they touch.
ISSUES: dict[str, tuple[int, ...]] = {
    "gang violence": (16,),
    "drug use": (3,),
    "lack of equitable health care": (3, 10),
    "environmental racism": (10, 11, 13),
    "youth empowerment": (4, 8),
    "social justice for women": (5, 10),
    "inclusion of immigrants": (10, 16),
    "homelessness": (1, 11),
    "loneliness of elders": (3, 10),
    "food insecurity": (2, 1),
    "school dropout": (4,),
    "domestic violence": (5, 16),
    "air pollution": (3, 11),
    "water scarcity": (6,),
    "racial discrimination": (10, 16),
    "youth unemployment": (8,),
    "climate disasters": (13, 11),
    "mental health crisis": (3,),
    "housing costs": (11, 1),
    "digital divide": (9, 4),
    "hate crimes": (16, 10),
    "plastic pollution": (12, 14),
}

# The issues the Compassionate Capital Region campaign names (seed 002).
CAPITAL_REGION_ISSUES: tuple[str, ...] = (
    "gang violence", "drug use", "lack of equitable health care", "environmental racism",
    "youth empowerment", "social justice for women", "inclusion of immigrants",
    "homelessness", "loneliness of elders",
)  # fmt: skip


def sector_themes(slug: str, keywords: tuple[str, ...]) -> tuple[str, ...]:
    """Interest phrases of a sector; its tagging keywords when it has no vocabulary here."""
    return SECTOR_THEMES.get(slug) or keywords or (slug.replace("-", " "),)
