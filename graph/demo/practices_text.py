"""The text of the Wisdom Book practices, parsed by :mod:`graph.demo.practices`.

Format: ``[sector-slug]`` starts a sector; ``* name`` a practice, followed by
``issue:`` and ``aim:`` lines, four ``-`` steps and two ``+`` lessons; a line
indented by four spaces continues the one above.
"""

PRACTICES_TEXT = """
[arts]
* a neighbourhood mural painted with residents
  issue: a block where neighbours no longer spoke to each other
  aim: to give people a reason to stand side by side
  - we knocked on doors to collect stories about the street
  - we held three open sketching evenings in the laundromat
  - we painted over two weekends with anyone who turned up
  - we threw a small party when the wall was done
  + The stories mattered more than the paint: people came to see their own memories on the wall.
  + Inviting the shop owners early avoided most of the arguments about the wall.
* a storytelling circle for newcomers
  issue: isolation among recently arrived families
  aim: to let people be heard before being helped
  - we found a quiet room in the public library
  - we trained volunteer listeners in a two-hour session
  - we met every second Sunday with tea and interpreters
  - we turned some of the stories into a small booklet
  + Interpreters had to be part of the circle, not outside it.
  + Children listened more carefully than we expected and later told their own stories.
* music sessions on a hospital ward
  issue: long stays that left patients bored and anxious
  aim: to bring a little beauty into a hard place
  - we asked nurses which hours were calmest
  - we recruited musicians who could play quietly
  - we played at bedsides on request only
  - we collected short feedback notes from patients
  + Asking permission at every bed built trust with the staff.
  + Short visits worked better than concerts.
[business]
* a pay-what-you-can community café
  issue: people who could not afford a warm meal
  aim: to serve everyone at the same table with dignity
  - we rented a kitchen that stood empty in the afternoons
  - we set a suggested price and a volunteer-hour option
  - we trained volunteers in food safety
  - we published our monthly accounts on the door
  + Being open about the numbers made regulars pay forward more often.
  + A fixed menu kept waste and stress low.
* a worker cooperative for home cleaners
  issue: cleaners who were underpaid and isolated
  aim: to let workers own their jobs
  - we met cleaners at the bus stops they used
  - we drafted bylaws with a volunteer lawyer
  - we pooled savings for insurance and supplies
  - we launched a simple booking website
  + The first ten clients came from members' own networks.
  + Weekly meetings were tiring but kept the trust alive.
* a compassionate leadership circle for small-business owners
  issue: burnout among owners and their staff
  aim: to make care a habit at work
  - we invited eight owners to a monthly breakfast
  - we practised listening exercises together
  - we each tried one change with our teams
  - we reported back honestly on what failed
  + Owners needed a safe place to admit mistakes.
  + Small changes, like a fixed break time, had the biggest effect.
[education]
* restorative circles after playground conflicts
  issue: suspensions that pushed children out of school
  aim: to repair harm instead of only punishing it
  - we trained four teachers and two lunchtime staff as circle keepers
  - we agreed with parents on when a circle replaces a suspension
  - we ran short circles the same day as an incident
  - we tracked suspensions and absences for a year
  + Circles only worked when the adults modelled the same honesty.
  + Suspensions fell, but the bigger change was how children talked about each other.
* a peer mentoring scheme for first-year students
  issue: first-year students dropping out in their first term
  aim: to make sure no new student felt alone
  - we matched each new student with an older volunteer
  - we gave mentors a short guide and a monthly check-in
  - we organised two informal evenings each term
  - we asked both sides what helped and what did not
  + Matching by shared interests beat matching by course.
  + Mentors gained as much confidence as the students they supported.
* a compassion curriculum for primary classrooms
  issue: bullying and a tense atmosphere in class
  aim: to teach kindness as a skill that can be practised
  - we adapted open lesson plans to our children's languages
  - we gave teachers fifteen minutes a day for the exercises
  - we invited families to a closing assembly
  - we compared class surveys from autumn and spring
  + Daily routine mattered more than clever lessons.
  + Teachers asked for the same practices for themselves.
[environment]
* a community garden on an empty lot
  issue: a neighbourhood with no fresh food within walking distance
  aim: to grow food and friendships at the same time
  - we asked the city for a three-year lease on the lot
  - we built raised beds with donated wood
  - we gave half the plots to families on the waiting list of the food bank
  - we shared the harvest at a Saturday stall
  + A written agreement about watering avoided most conflicts.
  + Elders with farming experience became the garden's real teachers.
* a street-by-street tree planting campaign
  issue: hot streets without shade in the poorest part of town
  aim: to cool the streets where people suffer most from heat
  - we mapped surface temperatures with borrowed sensors
  - we asked residents where they wanted trees
  - we planted with the city's parks crew on weekends
  - we formed watering teams for the first two summers
  + Residents cared for trees they had chosen themselves.
  + Heat maps convinced the council faster than petitions.
* a monthly repair café
  issue: broken things thrown away that could easily be fixed
  aim: to cut waste and share practical skills
  - we borrowed a church hall one Saturday a month
  - we recruited volunteers who could fix bikes, lamps and clothes
  - we logged every item and its weight
  - we taught visitors to do the repair themselves
  + The repair log was the best argument when we asked for funding.
  + People came for the repair and stayed for the conversation.
[gender-partnerships]
* a safe space for girls after school
  issue: girls who had nowhere safe to go between school and home
  aim: to give girls a place of their own to meet and lead
  - we asked girls what a safe space should have
  - we opened two afternoons a week in the community centre
  - we invited women from different jobs to talk about their work
  - we handed the planning over to an older girls' committee
  + The girls' committee made better decisions than we did.
  + Parents trusted the space once they had visited it.
* a fathers' caregiving group
  issue: fathers who felt shut out of their children's care
  aim: to make care work shared work
  - we started with a Saturday breakfast for fathers and toddlers
  - we invited a health visitor for questions
  - we shared practical tips on bedtimes and meals
  - we added evening sessions for fathers working shifts
  + Food and children in the room made talking easier.
  + Several mothers told us the group changed things at home.
* a network of community advocates against gender-based violence
  issue: women who did not know where to find help
  aim: to make sure help is one trusted person away
  - we trained women from each block as advocates
  - we mapped the services and their opening hours
  - we agreed on a safe referral path with the local shelter
  - we met monthly to support the advocates themselves
  + Advocates needed support for their own wellbeing.
  + A printed card with three phone numbers was used more than any app.
[health]
* trauma-informed training for clinic staff
  issue: patients who missed appointments and felt judged
  aim: to make every visit feel safe
  - we ran a half-day training for the whole clinic team
  - we changed the waiting-room signs and the first questions at the desk
  - we set up a quiet room for difficult conversations
  - we asked patients about their experience after six months
  + Receptionists changed the tone of the clinic more than doctors did.
  + Staff needed the same care they were learning to give.
* community health workers for new mothers
  issue: mothers without a regular doctor after giving birth
  aim: to reach mothers in their own homes and languages
  - we recruited mothers from the neighbourhood as health workers
  - we trained them with the local nursing school
  - we visited each new mother three times in the first two months
  - we referred urgent cases to a partner clinic
  + Speaking the same language opened more doors than any leaflet.
  + Health workers needed fair pay, not only thanks.
* a mental health first aid course for volunteers
  issue: volunteers unsure how to respond to someone in crisis
  aim: to make sure every volunteer knows the first steps
  - we adapted a standard course to our volunteers' settings
  - we practised with role plays drawn from real situations
  - we created a short list of local services
  - we organised a refresher after one year
  + Role plays based on real situations made the course stick.
  + Knowing the local services by name gave volunteers confidence.
[peace]
* violence interrupters trained from the neighbourhood
  issue: shootings between rival groups of young men
  aim: to stop the next act of revenge before it happens
  - we recruited respected people with their own history on the street
  - we trained them in de-escalation and mediation
  - we kept a phone line open at night and on weekends
  - we met weekly with the hospital to follow up on injuries
  + Credibility on the street could not be trained; it had to be hired.
  + Interrupters needed counselling for what they saw.
* intercultural dinners between old and new residents
  issue: tension after many refugees arrived in a small town
  aim: to turn strangers into neighbours
  - we asked families to host a dinner for six guests
  - we paired each host with a family from another background
  - we provided interpreters and recipes
  - we gathered everyone for a shared dinner at the end of the season
  + Cooking together broke the ice better than talking.
  + A few hosts became lasting friends with their guests.
* bystander training in public spaces
  issue: harassment on buses and in the town square
  aim: to make ordinary people able to step in safely
  - we adapted a short bystander course for the public
  - we ran sessions at libraries and bus depots
  - we practised five simple ways to intervene
  - we collected stories of interventions afterwards
  + Simple options, like asking the person harassed the time, were used most.
  + Bus drivers became our best trainers.
[restorative-justice]
* a youth diversion programme with restorative conferences
  issue: teenagers pushed into court for first offences
  aim: to keep young people out of the justice system
  - we agreed with police and prosecutors on which cases to refer
  - we prepared each young person and each victim separately
  - we held conferences with families and supporters
  - we followed up on every agreement for six months
  + Preparation took longer than the conference and mattered more.
  + Victims valued being asked what they needed.
* reentry circles for people leaving prison
  issue: people leaving prison without housing, work or friends
  aim: to surround each person with a circle of support
  - we met each person inside before release
  - we formed a circle of four volunteers for each of them
  - we helped with housing, work and paperwork in the first weeks
  - we kept meeting weekly for a year
  + The first 72 hours after release decide a lot.
  + Volunteers learnt as much about justice as the people they supported.
* healing circles after a community tragedy
  issue: grief and anger after a death in the neighbourhood
  aim: to give the community a place to grieve and repair
  - we asked families and faith leaders how to hold the circles
  - we trained keepers from the community itself
  - we held circles in homes, churches and the youth club
  - we turned some of the circles into planning for a memorial
  + Circles could not be rushed; some needed many meetings.
  + Local keepers were trusted more than outside experts.
[science-research]
* a citizen science air quality network
  issue: families worried about the air near a highway
  aim: to give residents their own evidence
  - we built low-cost sensors with the local high school
  - we placed them on balconies across the neighbourhood
  - we shared the data on a public map
  - we presented the results at a council meeting
  + Residents trusted data they had collected themselves.
  + Working with a university helped answer the question of accuracy.
* participatory research on loneliness
  issue: a rise in loneliness nobody had measured
  aim: to study loneliness with the people living it
  - we trained residents as peer researchers
  - we co-wrote a short questionnaire with them
  - we held interviews in cafés and community rooms
  - we presented the findings back to the participants first
  + Peer researchers heard answers outsiders never would.
  + Sharing results with participants first built lasting trust.
* STEM clubs for girls run by students
  issue: girls losing interest in science in their early teens
  aim: to show girls that science belongs to them
  - we recruited university students as club leaders
  - we designed hands-on experiments with cheap materials
  - we met weekly after school for a term
  - we visited a research lab at the end of the term
  + Leaders close in age were powerful role models.
  + Messy hands-on work kept attendance high.
[social-justice]
* a tenants' union in a large building
  issue: rising rents and repairs that never came
  aim: to let tenants act together instead of alone
  - we knocked on every door in the building
  - we held meetings in the lobby in three languages
  - we documented repairs with photos and dates
  - we negotiated with the landlord as a group
  + Translation made the union real for everyone, not only English speakers.
  + Written records won more than angry letters.
* a language access campaign for public services
  issue: immigrant families missing services they had a right to
  aim: to make public services speak people's languages
  - we collected stories of families turned away
  - we counted the languages spoken in local schools
  - we proposed a simple interpreter policy to the council
  - we trained volunteers to accompany families
  + Concrete stories moved the council more than statistics.
  + Volunteer interpreters needed clear limits and support.
* a community campaign against environmental racism
  issue: polluting sites clustered next to communities of colour
  aim: to make the burden of pollution visible and shared fairly
  - we mapped polluting sites and health data together
  - we held listening sessions in affected streets
  - we brought residents to planning hearings
  - we built alliances with environmental groups across town
  + Maps made the injustice impossible to ignore.
  + Alliances held when affected residents kept the lead.
[social-services]
* a visiting programme for isolated elders
  issue: older people who went days without speaking to anyone
  aim: to make sure no elder is forgotten
  - we got referrals from pharmacists and doctors
  - we matched each elder with a volunteer visitor
  - we added a weekly phone call between visits
  - we organised a monthly lunch for everyone
  + Pharmacists knew who was isolated before anyone else.
  + Visitors often found friends themselves.
* a one-stop benefits navigation desk
  issue: families missing benefits because the forms were too hard
  aim: to help people claim what they are entitled to
  - we set up a desk in the library twice a week
  - we trained volunteers on the most common forms
  - we kept a list of local services to refer to
  - we counted the amounts claimed with our help
  + Helping with one form often uncovered three more needs.
  + Counting the amounts claimed convinced funders quickly.
* street outreach for people sleeping rough
  issue: people sleeping rough who avoided shelters
  aim: to build trust before offering services
  - we walked the same route at the same time every evening
  - we offered tea, socks and conversation first
  - we connected people to health and housing services when they were ready
  - we met monthly with the shelters to solve blockages
  + Consistency mattered more than anything we carried.
  + Pets and partners were often the reason people refused shelters.
[spirituality]
* an interfaith service day
  issue: distrust between faith communities in the same town
  aim: to let people of different faiths meet through service
  - we invited every congregation to send volunteers
  - we chose projects that needed many hands
  - we mixed teams across faiths
  - we closed the day with a shared meal and reflections
  + Working side by side did more than any panel discussion.
  + Leaders had to let the volunteers mix freely.
* a grief support circle open to all traditions
  issue: people grieving alone after losses during the pandemic
  aim: to hold grief together across beliefs
  - we trained facilitators from several traditions
  - we met in a neutral space every two weeks
  - we used simple rituals such as lighting candles and naming loved ones
  - we kept contact lists for people who wanted more support
  + Simple rituals welcomed everyone, whatever they believed.
  + Facilitators needed their own space to grieve.
* a weekly compassion meditation for health workers
  issue: exhausted nurses and carers
  aim: to give carers a moment to care for themselves
  - we asked a hospital chaplain to host the sessions
  - we kept each session to twenty minutes
  - we offered them online and in the chapel
  - we shared short recordings for night shifts
  + Short sessions fitted into real working days.
  + Recordings reached staff who could never attend.
"""
