package ui

// Remote help's messages (issue 17): the help page, the native consent
// prompt, the sharing bar and the toolbar button, kept beside their page
// and merged into each language's catalog at start. The shell's native
// parts read them through Message in the session's language.
var assistMessages = map[string]catalog{
	"en": {
		"assist.title":            "Get help from the council",
		"assist.step.call":        "Call the council's digital support",
		"assist.hours":            "Lines are open:",
		"assist.step.code":        "When they ask, read out this code",
		"assist.code.until":       "The code works once, until %s.",
		"assist.step.allow":       "Allow them to see this screen",
		"assist.step.allow.body":  "A message will ask you first. They can see the screen and point at things, but they cannot type or click. You can stop sharing at any time.",
		"assist.unavailable":      "Help from the council through this kiosk is not available right now. You can still call them.",
		"assist.privacy":          "Password and card fields are hidden from them. Nothing they see is recorded.",
		"assist.back":             "Back to what I was doing",
		"assist.tool":             "Get help",
		"assist.tool.name":        "Get help from the council",
		"assist.prompt.title":     "%s digital support would like to see this screen to help you.",
		"assist.prompt.body":      "They cannot type or click.",
		"assist.prompt.name":      "%s digital support would like to see this screen to help you. They cannot type or click. Allow, or No thanks?",
		"assist.allow":            "Allow",
		"assist.no":               "No thanks",
		"assist.bar":              "%s support can see this screen",
		"assist.stop":             "_Stop sharing",
		"assist.stop.name":        "Stop sharing this screen (Alt+S)",
		"assist.ended":            "Sharing has stopped. Council support can no longer see this screen.",
		"assist.ended.limit":      "Sharing stopped after 30 minutes. Ask for help again if you need it.",
		"assist.ended.connection": "Sharing stopped: the connection to the council was lost.",
	},
	"cy": {
		"assist.title":            "Cael help gan y cyngor",
		"assist.step.call":        "Ffoniwch gymorth digidol y cyngor",
		"assist.hours":            "Mae'r llinellau ar agor:",
		"assist.step.code":        "Pan fyddan nhw'n gofyn, darllenwch y cod hwn",
		"assist.code.until":       "Mae'r cod yn gweithio unwaith, tan %s.",
		"assist.step.allow":       "Gadewch iddyn nhw weld y sgrin hon",
		"assist.step.allow.body":  "Bydd neges yn gofyn i chi yn gyntaf. Gallan nhw weld y sgrin a phwyntio at bethau, ond allan nhw ddim teipio na chlicio. Gallwch roi'r gorau i rannu ar unrhyw adeg.",
		"assist.unavailable":      "Nid yw help gan y cyngor drwy'r ciosg hwn ar gael ar hyn o bryd. Gallwch eu ffonio o hyd.",
		"assist.privacy":          "Mae meysydd cyfrinair a cherdyn wedi'u cuddio rhagddyn nhw. Nid oes dim maen nhw'n ei weld yn cael ei gofnodi.",
		"assist.back":             "Yn ôl at beth roeddwn i'n ei wneud",
		"assist.tool":             "Cael help",
		"assist.tool.name":        "Cael help gan y cyngor",
		"assist.prompt.title":     "Hoffai cymorth digidol %s weld y sgrin hon i'ch helpu.",
		"assist.prompt.body":      "Allan nhw ddim teipio na chlicio.",
		"assist.prompt.name":      "Hoffai cymorth digidol %s weld y sgrin hon i'ch helpu. Allan nhw ddim teipio na chlicio. Caniatáu, neu Dim diolch?",
		"assist.allow":            "Caniatáu",
		"assist.no":               "Dim diolch",
		"assist.bar":              "Gall cymorth %s weld y sgrin hon",
		"assist.stop":             "_Stopio rhannu",
		"assist.stop.name":        "Stopio rhannu'r sgrin hon (Alt+S)",
		"assist.ended":            "Mae'r rhannu wedi stopio. Ni all cymorth y cyngor weld y sgrin hon mwyach.",
		"assist.ended.limit":      "Stopiodd y rhannu ar ôl 30 munud. Gofynnwch am help eto os oes angen.",
		"assist.ended.connection": "Stopiodd y rhannu: collwyd y cysylltiad â'r cyngor.",
	},
	"pl": {
		"assist.title":            "Pomoc od rady",
		"assist.step.call":        "Zadzwoń do pomocy cyfrowej rady",
		"assist.hours":            "Linie są czynne:",
		"assist.step.code":        "Gdy poproszą, przeczytaj ten kod",
		"assist.code.until":       "Kod działa raz, do %s.",
		"assist.step.allow":       "Pozwól im zobaczyć ten ekran",
		"assist.step.allow.body":  "Najpierw pojawi się pytanie. Będą widzieć ekran i wskazywać miejsca, ale nie mogą pisać ani klikać. Możesz przerwać udostępnianie w każdej chwili.",
		"assist.unavailable":      "Pomoc rady przez ten kiosk jest teraz niedostępna. Nadal możesz do nich zadzwonić.",
		"assist.privacy":          "Pola haseł i kart są przed nimi ukryte. Nic, co widzą, nie jest zapisywane.",
		"assist.back":             "Wróć do tego, co robiłem",
		"assist.tool":             "Pomoc",
		"assist.tool.name":        "Pomoc od rady",
		"assist.prompt.title":     "Pomoc cyfrowa %s chce zobaczyć ten ekran, aby ci pomóc.",
		"assist.prompt.body":      "Nie mogą pisać ani klikać.",
		"assist.prompt.name":      "Pomoc cyfrowa %s chce zobaczyć ten ekran, aby ci pomóc. Nie mogą pisać ani klikać. Pozwolić czy Nie, dziękuję?",
		"assist.allow":            "Pozwól",
		"assist.no":               "Nie, dziękuję",
		"assist.bar":              "Pomoc %s widzi ten ekran",
		"assist.stop":             "_Zatrzymaj udostępnianie",
		"assist.stop.name":        "Zatrzymaj udostępnianie ekranu (Alt+Z)",
		"assist.ended":            "Udostępnianie zatrzymane. Pomoc rady nie widzi już tego ekranu.",
		"assist.ended.limit":      "Udostępnianie zatrzymano po 30 minutach. Poproś o pomoc ponownie, jeśli trzeba.",
		"assist.ended.connection": "Udostępnianie zatrzymane: utracono połączenie z radą.",
	},
}

func init() {
	for _, l := range languages {
		for k, v := range assistMessages[l.Code] {
			l.Msgs[k] = v
		}
	}
}
