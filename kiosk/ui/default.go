package ui

// DefaultConfig is a realistic starting point: a London borough council's
// most used online tasks on their public URLs, GOV.UK's benefits pages and
// free help to get online. The kiosk's default allowlist must allow every
// URL here (Config.ServiceURLs lists them). Each call returns a fresh copy.
func DefaultConfig() Config {
	return Config{
		Council: Council{
			Name:         "London Borough of Camden",
			BrandColour:  "#00625e",
			Phone:        "020 7974 4444",
			OpeningHours: []string{"Monday to Friday: 9am to 5pm", "Closed on bank holidays"},
			HelpDesk:     "Ask at the library's front desk. Digital volunteers are here on Tuesday and Thursday mornings.",
		},
		Tiles: []TileGroup{
			{
				Title:        "Pay",
				Translations: map[string]Text{"cy": {Title: "Talu"}, "pl": {Title: "Zapłać"}},
				Tiles: []Tile{
					{
						Title: "Pay your council tax", Description: "Pay a bill by debit or credit card",
						URL: "https://www.camden.gov.uk/pay-council-tax", Guide: "pay-council-tax",
						Translations: map[string]Text{
							"cy": {Title: "Talu eich treth gyngor", Description: "Talu bil â cherdyn debyd neu gredyd"},
							"pl": {Title: "Zapłać council tax", Description: "Zapłać rachunek kartą debetową lub kredytową"},
						},
					},
					{
						Title: "Pay a parking fine", Description: "Pay or challenge a penalty charge notice (PCN)",
						URL: "https://www.camden.gov.uk/parking-fines",
						Translations: map[string]Text{
							"cy": {Title: "Talu dirwy parcio", Description: "Talu neu herio hysbysiad tâl cosb (PCN)"},
							"pl": {Title: "Zapłać mandat za parkowanie", Description: "Zapłać lub odwołaj się od mandatu (PCN)"},
						},
					},
				},
			},
			{
				Title:        "Report",
				Translations: map[string]Text{"cy": {Title: "Rhoi gwybod"}, "pl": {Title: "Zgłoś"}},
				Tiles: []Tile{
					{
						Title: "Report a missed bin", Description: "Your rubbish or recycling was not collected",
						URL: "https://www.camden.gov.uk/report-a-missed-collection", Guide: "report-missed-bin",
						Translations: map[string]Text{
							"cy": {Title: "Rhoi gwybod am fin heb ei gasglu", Description: "Ni chasglwyd eich sbwriel neu ailgylchu"},
							"pl": {Title: "Zgłoś nieodebrane śmieci", Description: "Twoje śmieci lub recykling nie zostały odebrane"},
						},
					},
					{
						Title: "Report an abandoned vehicle", Description: "A car or van left on the street for a long time",
						URL: "https://www.camden.gov.uk/abandoned-vehicles",
						Translations: map[string]Text{
							"cy": {Title: "Rhoi gwybod am gerbyd wedi'i adael", Description: "Car neu fan wedi'i adael ar y stryd am amser hir"},
							"pl": {Title: "Zgłoś porzucony pojazd", Description: "Samochód lub furgonetka od dawna stoi na ulicy"},
						},
					},
					{
						Title: "Book a bulky waste collection", Description: "Get large items like furniture taken away",
						URL: "https://www.camden.gov.uk/bulky-waste",
						Translations: map[string]Text{
							"cy": {Title: "Trefnu casglu gwastraff swmpus", Description: "Cael gwared ar eitemau mawr fel dodrefn"},
							"pl": {Title: "Zamów odbiór dużych odpadów", Description: "Odbiór dużych rzeczy, np. mebli"},
						},
					},
				},
			},
			{
				Title:        "Apply",
				Translations: map[string]Text{"cy": {Title: "Gwneud cais"}, "pl": {Title: "Złóż wniosek"}},
				Tiles: []Tile{
					{
						Title: "Apply for a parking permit", Description: "Resident and visitor permits",
						URL: "https://www.camden.gov.uk/parking-permits", Guide: "apply-parking-permit",
						Translations: map[string]Text{
							"cy": {Title: "Gwneud cais am drwydded barcio", Description: "Trwyddedau preswylwyr ac ymwelwyr"},
							"pl": {Title: "Złóż wniosek o pozwolenie na parkowanie", Description: "Pozwolenia dla mieszkańców i gości"},
						},
					},
					{
						Title: "Your council account", Description: "Sign in or create an account to track requests",
						URL: "https://www.camden.gov.uk/my-account", Guide: "create-council-account",
						Translations: map[string]Text{
							"cy": {Title: "Eich cyfrif cyngor", Description: "Mewngofnodi neu greu cyfrif i ddilyn ceisiadau"},
							"pl": {Title: "Twoje konto w radzie", Description: "Zaloguj się lub załóż konto, aby śledzić sprawy"},
						},
					},
				},
			},
			{
				Title:        "Benefits and housing",
				Translations: map[string]Text{"cy": {Title: "Budd-daliadau a thai"}, "pl": {Title: "Zasiłki i mieszkania"}},
				Tiles: []Tile{
					{
						Title: "Housing Benefit and Council Tax Reduction", Description: "Help paying rent or council tax on a low income",
						URL: "https://www.camden.gov.uk/housing-benefit", Guide: "housing-benefit-council-tax-reduction",
						Translations: map[string]Text{
							"cy": {Title: "Budd-dal Tai a Gostyngiad Treth Gyngor", Description: "Help i dalu rhent neu dreth gyngor ar incwm isel"},
							"pl": {Title: "Housing Benefit i Council Tax Reduction", Description: "Pomoc w opłacie czynszu lub council tax przy niskich dochodach"},
						},
					},
					{
						Title: "Universal Credit", Description: "Check if you can get it and how to apply (GOV.UK)",
						URL: "https://www.gov.uk/universal-credit",
						Translations: map[string]Text{
							"cy": {Title: "Credyd Cynhwysol", Description: "Gweld a allwch ei gael a sut i wneud cais (GOV.UK)"},
							"pl": {Title: "Universal Credit", Description: "Sprawdź, czy ci przysługuje i jak złożyć wniosek (GOV.UK)"},
						},
					},
					{
						Title: "Benefits calculators", Description: "Find out which benefits you could get (GOV.UK)",
						URL: "https://www.gov.uk/benefits-calculators",
						Translations: map[string]Text{
							"cy": {Title: "Cyfrifianellau budd-daliadau", Description: "Darganfod pa fudd-daliadau y gallech eu cael (GOV.UK)"},
							"pl": {Title: "Kalkulatory zasiłków", Description: "Sprawdź, jakie zasiłki możesz dostać (GOV.UK)"},
						},
					},
				},
			},
			{
				Title:        "Find help",
				Translations: map[string]Text{"cy": {Title: "Cael help"}, "pl": {Title: "Znajdź pomoc"}},
				Tiles: []Tile{
					{
						Title: "Learn to get online for free", Description: "Short free courses: email, staying safe, forms",
						URL: "https://www.learnmyway.com/", Guide: "digital-skills-help",
						Translations: map[string]Text{
							"cy": {Title: "Dysgu mynd ar-lein am ddim", Description: "Cyrsiau byr am ddim: e-bost, cadw'n ddiogel, ffurflenni"},
							"pl": {Title: "Bezpłatna nauka internetu", Description: "Krótkie darmowe kursy: e-mail, bezpieczeństwo, formularze"},
						},
					},
					{
						Title: "Free how-to guides", Description: "Plain-English help with email, video calls and more",
						URL: "https://www.digitalunite.com/technology-guides",
						Translations: map[string]Text{
							"cy": {Title: "Canllawiau sut-i am ddim", Description: "Help mewn iaith glir gydag e-bost, galwadau fideo a mwy"},
							"pl": {Title: "Bezpłatne poradniki", Description: "Prosta pomoc z e-mailem, rozmowami wideo i nie tylko"},
						},
					},
					{
						Title: "Citizens Advice", Description: "Free, independent advice on benefits, debt and housing",
						URL: "https://www.citizensadvice.org.uk/",
						Translations: map[string]Text{
							"cy": {Title: "Cyngor ar Bopeth", Description: "Cyngor annibynnol am ddim ar fudd-daliadau, dyled a thai"},
							"pl": {Title: "Citizens Advice", Description: "Bezpłatne, niezależne porady o zasiłkach, długach i mieszkaniu"},
						},
					},
				},
			},
		},
	}
}
