"""Sentence templates of the Grassroots Wisdom Book entries (see :mod:`graph.demo.wisdom`).

Placeholders: ``{practice}``/``{Practice}``, ``{issue}``, ``{aim}``, ``{place}``,
``{who}``, ``{theme}``, ``{n}`` (a small number), ``{months}``, and the chosen steps
``{s1}``..``{s3}`` (capitalised ``{S1}``..``{S3}``). Written for this project.
"""

from __future__ import annotations

TITLES = (
    "{Practice} in {place}",
    "Notes on {practice} from {place}",
    "{Practice}: lessons from {place}",
    "What {practice} taught us in {place}",
    "Starting {practice}: notes from {place}",
    "{Practice}, step by step",
    "A year of {practice} in {place}",
)
OPENINGS = (
    "In {place}, a small group of {who} started {practice} because {issue} kept coming up "
    "in every conversation.",
    "{Practice} began in {place} as an answer to {issue}.",
    "When {issue} became impossible to ignore in {place}, {who} turned to {practice}.",
    "This entry describes {practice}, which {who} in {place} set up to face {issue}.",
    "Our story starts with {issue}, something {who} in {place} saw every week.",
    "We are {who} from {place}, and for {months} months we have been running {practice}.",
)
AIMS = (
    "The idea was simple: {aim}.",
    "Our aim was {aim}.",
    "From the start we wanted {aim}.",
    "Everything we did served one purpose: {aim}.",
)
CONTEXTS = (
    "{Place} already had a few groups working on {theme}, but they rarely talked to each other.",
    "Others had tried before us, with good intentions and little follow-through.",
    "Nobody in town was paid to do this, so it fell to whoever cared enough.",
    "The local council was sympathetic but had no budget to offer.",
    "We had no funding at first, only a shared email list and a lot of goodwill.",
    "Our interest in {theme} brought us together long before this project had a name.",
    "A public meeting in the spring showed how many people felt the same way.",
    "Several of us had met at a compassion workshop and wanted to put it into practice.",
)
STEPS = (
    "First, {s1}. Then {s2}. Later, {s3}.",
    "We started small: {s1}. Next, {s2}, and once that worked, {s3}.",
    "The work went in stages. {S1}. {S2}. {S3}.",
    "Step by step: {s1}; {s2}; and finally {s3}.",
    "It took a while to find the right order. In the end {s1}, {s2} and {s3}.",
)
CHALLENGES = (
    "The hardest part was keeping volunteers once the first enthusiasm faded.",
    "Finding a room we could use for free took far longer than planned.",
    "Some neighbours were suspicious of us at first, and we had to earn their trust.",
    "We underestimated how much time the paperwork would take.",
    "Language was a barrier until bilingual volunteers joined us.",
    "Two of our founders moved away in the first year, and we nearly stopped.",
    "We argued for weeks about whether to accept money from a local company.",
    "Winter attendance dropped sharply, so we moved meetings to weekend afternoons.",
    "Not everyone agreed on what success would look like.",
    "Keeping records was dull work, but without it we could not show what changed.",
)
OUTCOMES = (
    "After {months} months, about {n} people were taking part regularly.",
    "By the end of the first year we had worked with {n} families.",
    "Around {n} volunteers have been involved so far, some of them every single week.",
    "The first season ended with {n} participants and a waiting list.",
    "Within {months} months the group had grown to {n} regular members.",
    "So far {n} people have been part of it, and most of them have stayed.",
)
LESSON_TEMPLATES = (
    "What did we learn? {l1} {l2}",
    "Two lessons stand out. {l1} {l2}",
    "{l1} {l2}",
    "Looking back, the main lessons are clear. {l1} {l2}",
)
GENERAL_LESSONS = (
    "Trust grows slowly and can be lost quickly.",
    "The people closest to the problem usually know the solution best.",
    "Regular, predictable meetings mattered more than big events.",
    "Partnerships with schools and clinics opened doors we could not open alone.",
    "Saying thank you in public kept volunteers coming back.",
    "A shared meal solves more disagreements than a long agenda.",
    "Measuring a few things well beat measuring many things badly.",
    "Young people took the lead as soon as we let them.",
)
EXTRAS = (
    "Along the way we kept short notes after every meeting, which made it much easier to "
    "explain the work to newcomers and to funders.",
    "Several volunteers joined after hearing about the project from a friend, a reminder "
    "that word of mouth is still the best way to find people.",
    "We also learnt to celebrate small wins, because the big changes took longer than "
    "anyone expected.",
    "Money was never the main problem; time and steady people were.",
    "We checked in with the people most affected at every stage and changed course twice "
    "because of what they told us.",
    "A local newspaper story brought a wave of offers of help, not all of which we could use.",
)
CLOSINGS = (
    "If you want to try this where you live, start small and let the people most affected lead.",
    "We are happy to share our materials with anyone who asks.",
    "None of this needed much money; it needed patience and people who kept showing up.",
    "We would do it again, with more time for preparation.",
    "Get in touch if you are starting something similar; we learnt a lot from others too.",
    "The work continues, and new people are always welcome.",
)
WHO = (
    "neighbours", "volunteers", "parents and teachers", "residents",
    "young people and their mentors", "members of our local compassion group",
    "friends from a faith community", "retired professionals", "students",
)  # fmt: skip
REVISED_TITLES = ("{} (revised)", "Revisited: {}", "{}, again", "{} - updated")
# Small rewordings of a re-filed entry: (original, replacement), applied once each.
REWORDINGS = (
    ("started", "launched"), ("small group", "handful"), ("Then ", "After that, "),
    ("months", "weeks"), ("simple", "straightforward"), ("Two lessons stand out.",
    "Two things stood out."), ("every", "each"), ("people", "folks"),
    ("What did we learn?", "What we learnt:"), ("regularly", "often"), ("first", "initial"),
)  # fmt: skip
