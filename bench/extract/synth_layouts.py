#!/usr/bin/env python3
"""Synthetic news pages of layouts that AEB and trafilatura's set hardly hold (issue 15),
with the text a reader would keep: older table layouts (the article one <td> among a menu column,
an advert column and a footer; paragraphs split by <br>; articles set in table rows; related
links one a line; one-paragraph items), div layouts of 2008 (columns in plain <div>s), and
modern article bodies cut by subheadings, pictures and lists; each in German, French,
Polish and English. Written by us; the pages are small and the gold is the paragraphs put
in. Scored by token F1 (bag of words), summed over the pages. The issue 15 rules for
these layouts were written against these pages: a check that they hold, not a held-out
measure.

usage: synth_layouts.py make OUT            -> OUT/html/<id>.html, OUT/gold/<id>.txt
       synth_layouts.py score OUT PRED      pages under 0.97 and the total F1
(PRED: <id>.txt files, e.g. from the cleaner's batch example on OUT/html)
"""
import collections
import re
import sys
from pathlib import Path

DE=["Der Gemeinderat hat am Dienstagabend nach langer Debatte beschlossen, die Ortsdurchfahrt im kommenden Frühjahr für drei Monate vollständig zu sperren.",
"Die Bauarbeiten sollen nach Angaben der Verwaltung rund 2,4 Millionen Euro kosten, wovon das Land einen großen Teil übernehmen wird.",
"Anwohner hatten sich in einer Bürgerversammlung im Sommer vor allem über die geplante Umleitung durch die engen Wohnstraßen beschwert.",
"Bürgermeister Klaus Weber versprach, die Geschäfte im Ortskern während der Sperrung so gut wie möglich erreichbar zu halten.",
"Der Verkehr wird über die Kreisstraße umgeleitet, für Radfahrer und Fußgänger bleibt ein schmaler Durchgang frei."]
FR=["Le conseil municipal a adopté mardi soir, après un long débat, la fermeture complète de la rue principale pendant trois mois au printemps prochain.",
"Les travaux devraient coûter environ 2,4 millions d'euros selon la mairie, dont une grande partie sera prise en charge par la région.",
"Les riverains s'étaient plaints lors d'une réunion publique cet été de la déviation prévue par les petites rues résidentielles du quartier.",
"Le maire Jean Dupont a promis que les commerces du centre resteraient accessibles autant que possible pendant toute la durée du chantier.",
"La circulation sera déviée par la route départementale, un passage étroit restera ouvert aux cyclistes et aux piétons."]
PL=["Rada gminy po długiej debacie zdecydowała we wtorek wieczorem o całkowitym zamknięciu głównej ulicy na trzy miesiące wiosną przyszłego roku.",
"Według urzędu prace mają kosztować około 2,4 miliona złotych, z czego znaczną część pokryje samorząd województwa z własnego budżetu.",
"Mieszkańcy skarżyli się latem na zebraniu przede wszystkim na planowany objazd przez wąskie uliczki osiedla domków jednorodzinnych.",
"Wójt Jan Kowalski obiecał, że sklepy w centrum będą w miarę możliwości dostępne przez cały czas trwania robót drogowych.",
"Ruch zostanie skierowany na drogę powiatową, dla rowerzystów i pieszych pozostanie wąskie przejście wzdłuż chodnika."]
EN=["The city council voted on Tuesday night, after a long debate, to close Main Street completely for three months next spring while the road is rebuilt.",
"The work is expected to cost about $2.4 million, according to the city, most of which will be covered by a state transportation grant.",
"Residents complained at a public meeting this summer mainly about the planned detour through the narrow residential streets of the east side.",
"Mayor Tom Baker promised that downtown businesses would remain reachable as far as possible for the whole length of the project.",
"Traffic will be routed along Route 9, and a narrow lane will stay open for cyclists and pedestrians."]
SHORT_EN=["Police arrested two men on Friday.","Both were charged with burglary, officers said.","A third man is still wanted.","The shop reopened on Saturday morning.","Anyone with information should call police."]
LANGS={"de":DE,"fr":FR,"pl":PL,"en":EN}
NAV='<td width=150 valign=top bgcolor="#eeeeee">'+'<br>'.join(f'<a href="/s{i}">Section {i}</a>' for i in range(12))+'</td>'
ADS='<td width=160 valign=top><a href="http://ads.example/c1"><img src="/b1.gif"></a><br>Anzeige<br><a href="http://ads.example/c2"><img src="/b2.gif"></a></td>'
FOOT='<tr><td colspan=3><font size=1>&copy; 2008 Tageblatt | <a href="/imp">Impressum</a> | <a href="/k">Kontakt</a></font></td></tr>'
HEAD='<tr><td colspan=3><a href="/"><img src="/logo.gif"></a> <a href="/news">News</a> | <a href="/sport">Sport</a> | <a href="/wetter">Wetter</a></td></tr>'
RELATED='<br><br><b>Related</b><br><a href="/r1">Another story about the council and its budget</a><br><a href="/r2">More about the road works in the county</a><br><a href="/r3">Letters: readers on the road plans</a>'
def page(title,cell,extra_rows=""):
    return f'<html><head><title>{title}</title></head><body><table width=770 border=0>{HEAD}<tr>{NAV}{cell}{ADS}</tr>{extra_rows}{FOOT}</table></body></html>'

def make(root: Path) -> None:
    out = {}
    for lang,P in LANGS.items():
        # 1 single <br> between paragraphs, text direct in td, related links in same cell
        out[f'{lang}_single_br']=(page("Road closed",'<td valign=top><span class="headline">Road closed</span><br><span class="date">12.03.2008</span><br><br>'+'<br>'.join(P)+RELATED+'</td>'),P)
        # 2 <p> paragraphs in td with an inline picture table between them
        pic='<table align=right width=200><tr><td><img src="/p.jpg" width=200><br><font size=1>Photo: archive</font></td></tr></table>'
        out[f'{lang}_p_inline_pic']=(page("Road closed",'<td valign=top><h1>Road closed</h1>'+''.join(f'<p>{p}</p>' for p in P[:2])+pic+''.join(f'<p>{p}</p>' for p in P[2:])+'</td>'),P)
        # 3 nested table: article in inner td, subheading row, continuation row
        inner=f'<td valign=top><table width=100%><tr><td><font size=4><b>Road closed</b></font></td></tr><tr><td><font face=Arial size=2>{P[0]}<br><br>{P[1]}</font></td></tr><tr><td><b>Umleitung</b></td></tr><tr><td><font face=Arial size=2>{P[2]}<br><br>{P[3]}<br><br>{P[4]}</font></td></tr></table></td>'
        out[f'{lang}_nested_rows']=(page("Road closed",inner),P)
        # 4 font-wrapped paragraphs
        out[f'{lang}_font_paras']=(page("Road closed",'<td valign=top class="text">'+''.join(f'<font face="Verdana" size="2">{p}</font><br><br>' for p in P)+'<a href="/print">Print</a> | <a href="/mail">E-mail</a></td>'),P)
        # 5 unclosed p with subheading in <b> and text after
        out[f'{lang}_unclosed_p_subhead']=(page("Road closed",f'<td valign=top><p>{P[0]}<p>{P[1]}<p><b>Umleitung</b><p>{P[2]}<p>{P[3]}<p>{P[4]}</td>'),P)
        # 6 div layout 2008: text with br, subheads in strong, box of links in middle
        box='<div class="infobox"><b>Mehr</b><br><a href="/x1">Alles zur Straße</a><br><a href="/x2">Bildergalerie</a></div>'
        out[f'{lang}_div_br_box']=(f'<html><head><title>Road closed</title></head><body><div id="nav">'+' '.join(f'<a href="/s{i}">Section {i}</a>' for i in range(12))+f'</div><div id="main"><h1>Road closed</h1><div class="artikeltext">{P[0]}<br><br>{P[1]}<br><br>{box}<strong>Umleitung</strong><br>{P[2]}<br><br>{P[3]}<br><br>{P[4]}</div></div><div id="footer">&copy; 2008</div></body></html>',P)
        # 7 list inside article
        items=[p.split(',')[0] for p in P[1:4]]
        out[f'{lang}_list_in_article']=(f'<html><head><title>Road closed</title></head><body><div class="nav"><ul>'+''.join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(10))+f'</ul></div><div class="article"><h1>Road closed</h1><p>{P[0]}</p><ul>'+''.join(f'<li>{i}.</li>' for i in items)+f'</ul><p>{P[4]}</p><h2>Umleitung</h2><p>{P[2]}</p><p>Short end.</p></div></body></html>',[P[0]]+[i+'.' for i in items]+[P[4],'Umleitung',P[2],'Short end.'])
    out['en_short_paras']=(page("Burglary",'<td valign=top><b>Burglary</b><br><br>'+'<br><br>'.join(SHORT_EN)+'</td>'),SHORT_EN)

    BLURBS='<td width=200 valign=top>'+''.join(f'<a href="/t{i}"><b>Headline number {i} about something</b></a><br>A short teaser blurb that introduces the story {i} in two lines of text for readers<br><br>' for i in range(8))+'</td>'
    for lang,P in LANGS.items():
        # a) teaser column with blurbs beside a short article
        out[f'{lang}_teaser_column']=(f'<html><head><title>Road closed</title></head><body><table>{HEAD}<tr>{NAV}<td valign=top><b>Road closed</b><br><br>{P[0]}<br><br>{P[1]}<br><br>{P[4]}</td>{BLURBS}</tr>{FOOT}</table></body></html>',[P[0],P[1],P[4]])
        # b) reader comments below in same cell
        com=''.join(f'<br><br><b>Kommentar von Leser{i} am 13.03.2008, 10:1{i}</b><br>Das ist doch wieder typisch, immer werden die Anwohner vergessen und keiner fragt uns, was wir davon halten sollen.' for i in range(4))
        out[f'{lang}_comments_in_cell']=(page("Road closed",f'<td valign=top>{"<br><br>".join(P)}<br><br><hr><b>Leserkommentare (4)</b>{com}</td>'),P)
        # c) intro in a separate row above in bold
        inner=f'<td valign=top><table><tr><td><h2>Road closed</h2></td></tr><tr><td><b>{P[0]}</b></td></tr><tr><td><img src="/x.jpg"></td></tr><tr><td>{P[1]}<br><br>{P[2]}<br><br>{P[3]}<br><br>{P[4]}</td></tr></table></td>'
        out[f'{lang}_intro_row']=(page("Road closed",inner),P)
        # d) paragraphs in plain divs with tools table
        tools='<table><tr><td><a href="/p">Drucken</a></td><td><a href="/m">Versenden</a></td><td><a href="/b">Bookmark</a></td></tr></table>'
        out[f'{lang}_divs_tools']=(page("Road closed",'<td valign=top>'+tools+''.join(f'<div>{p}</div>' for p in P)+tools+'</td>'),P)
        # e) short article, long footer disclaimer
        disc='<tr><td colspan=3><font size=1>'+' '.join(['Alle Rechte vorbehalten, die Vervielfältigung, Verbreitung und sonstige Nutzung der Inhalte ist ohne Zustimmung des Verlags nicht gestattet.']*3)+'</font></td></tr>'
        out[f'{lang}_short_long_footer']=(page("Road closed",f'<td valign=top>{P[0]}<br><br>{P[4]}</td>',disc),[P[0],P[4]])
        # g) article across rows with an ad row between
        inner=f'<td valign=top><table><tr><td>{P[0]}<br><br>{P[1]}<br><br>{P[2]}</td></tr><tr><td><a href="http://ads.example/x"><img src="/ad.gif"></a><br>Anzeige</td></tr><tr><td>{P[3]}<br><br>{P[4]}</td></tr></table></td>'
        out[f'{lang}_rows_ad_between']=(page("Road closed",inner),P)
        # h) modern: figure in middle, h2 subheads, list, short final paragraph
        fig='<figure><img src="/a.jpg"><figcaption>Die Straße im Winter. Foto: dpa</figcaption></figure>'
        items=["Erstens die Umleitung über die Kreisstraße","Zweitens ein Shuttlebus für Senioren","Drittens längere Öffnungszeiten der Läden"]
        modern=f'<html><head><title>Road closed</title></head><body><header><nav><a href="/">Start</a> <a href="/p">Politik</a></nav></header><main><article><h1>Road closed</h1><div class="article-body"><p>{P[0]}</p><p>{P[1]}</p>{fig}<p>{P[2]}</p><h2>Was geplant ist</h2><p>Die Gemeinde plant:</p><ul>'+''.join(f'<li>{i}</li>' for i in items)+f'</ul><p>{P[3]}</p><h2>Wie es weitergeht</h2><p>{P[4]}</p><p>Mehr am Montag.</p></div><div class="related"><h3>Mehr zum Thema</h3><ul><li><a href="/1">Andere Nachricht eins über etwas</a></li><li><a href="/2">Andere Nachricht zwei über etwas</a></li></ul></div></article></main><footer>Impressum</footer></body></html>'
        out[f'{lang}_modern_mixed']=(modern,[P[0],P[1],P[2],'Was geplant ist','Die Gemeinde plant:']+items+[P[3],'Wie es weitergeht',P[4],'Mehr am Montag.'])

    for lang,P in LANGS.items():
        # 8 uppercase tags, unquoted attrs, <BR/>
        cell='<TD VALIGN=TOP><FONT FACE=Arial SIZE=2><B>Road closed</B><BR/><BR/>'+'<BR/><BR/>'.join(P)+'</FONT></TD>'
        out[f'{lang}_upper']=('<HTML><HEAD><TITLE>Road closed</TITLE></HEAD><BODY><TABLE WIDTH=770>'+HEAD.upper()+'<TR>'+NAV+cell+ADS+'</TR></TABLE></BODY></HTML>',P)
        # 6 font with p inside, unclosed
        cell='<td valign=top><font size=2 face=Arial><p>'+'<p>'.join(P)+'</font></td>'
        out[f'{lang}_font_p']=(page("Road closed",cell),P)
        # 11 single paragraph article vs big nav
        one=' '.join(P[:3])
        out[f'{lang}_one_block']=(page("Road closed",f'<td valign=top>{one}</td>'),[one])
        # 12 teaser list above article in same cell
        teas=''.join(f'<a href="/t{i}"><b>Other headline {i}</b></a><br>Short blurb of the other story number {i} goes here<br>' for i in range(5))
        out[f'{lang}_teasers_above']=(page("Road closed",f'<td valign=top>{teas}<hr><b>Road closed</b><br><br>{"<br><br>".join(P)}</td>'),P)
        # 10 pagination
        out[f'{lang}_pagination']=(page("Road closed",f'<td valign=top>{"<br><br>".join(P)}<br><br>Seite 1 von 2 <a href="?p=2">weiter</a> <a href="?p=2">2</a></td>'),P)
        # table inside article with related links box aligned right
        box='<table align=right width=180 border=1><tr><td><b>Mehr zum Thema</b><br><a href="/1">Haushalt der Gemeinde 2008</a><br><a href="/2">Umleitung durch das Dorf</a><br><a href="/3">Bürgerversammlung im Juli</a></td></tr></table>'
        out[f'{lang}_box_right']=(page("Road closed",f'<td valign=top>{P[0]}<br><br>{box}{P[1]}<br><br>{P[2]}<br><br>{P[3]}<br><br>{P[4]}</td>'),P)

    for lang,P in LANGS.items():
        items=["Erstens die Umleitung über die Kreisstraße","Zweitens ein Shuttlebus für Senioren","Drittens längere Öffnungszeiten"]
        # 6 sections with subheads, one short
        h=f'<html><head><title>Road closed</title></head><body><nav><a href="/">Start</a></nav><main><article><h1>Road closed</h1><section><p>{P[0]}</p><p>{P[1]}</p><p>{P[2]}</p></section><section><h2>Die Kosten</h2><p>{P[3]}</p></section><section><h2>Wie es weitergeht</h2><p>{P[4]}</p></section></article></main><footer><a href="/imp">Impressum</a></footer></body></html>'
        out[f'{lang}_sections_short']=(h,P[:3]+['Die Kosten',P[3],'Wie es weitergeht',P[4]])
        # 7 list between text divs
        h=f'<html><head><title>Road closed</title></head><body><nav><a href="/">Start</a></nav><div class="story"><h1>Road closed</h1><div class="text"><p>{P[0]}</p><p>{P[1]}</p><p>{P[2]}</p></div><ul>'+''.join(f'<li>{i}</li>' for i in items)+f'</ul><div class="text2"><p>{P[3]}</p></div></div><div class="foot">&copy; Zeitung</div></body></html>'
        out[f'{lang}_list_between']=(h,P[:3]+items+[P[3]])
        # 8 figure splitting body into two unnamed divs
        h=f'<html><head><title>Road closed</title></head><body><nav><a href="/">Start</a></nav><article><h1>Road closed</h1><div><p>{P[0]}</p><p>{P[1]}</p><p>{P[2]}</p><p>{P[3]}</p></div><figure><img src="/a.jpg"><figcaption>Foto: dpa</figcaption></figure><div><p>{P[4]}</p></div></article></body></html>'
        out[f'{lang}_figure_split']=(h,P)
        # 9 final short paragraph after a box
        h=f'<html><head><title>Road closed</title></head><body><article><h1>Road closed</h1><div class="body"><p>{P[0]}</p><p>{P[1]}</p><p>{P[2]}</p><div class="inline-box"><a href="/x">Mehr zum Thema Straßenbau in der Region</a></div><p>{P[3]}</p></div><p>Die Sitzung ist öffentlich.</p></article></body></html>'
        out[f'{lang}_short_final']=(h,P[:4]+['Die Sitzung ist öffentlich.'])

    for lang,P in LANGS.items():
        nl='<div class="nl-signup"><p>Sign up for our daily newsletter and get the news first.</p><form><input type=email><button>Go</button></form></div>'
        ad='<div class="ad-slot"><script>x</script></div>'
        # 2 each paragraph wrapped
        h=f'<html><head><title>Road closed</title></head><body><header><nav><a href="/">Home</a></nav></header><main><article><h1>Road closed</h1><div class="body">'+''.join(f'<div class="paragraph"><p>{p}</p></div>'+(nl if i==1 else ad if i==2 else '') for i,p in enumerate(P))+'</div></article></main></body></html>'
        out[f'{lang}_wrapped_paras']=(h,P)
        # 4 chunks with different class names between ads
        h=f'<html><head><title>Road closed</title></head><body><main><article><h1>Road closed</h1><div class="article-body__content"><p>{P[0]}</p><p>{P[1]}</p></div>{ad}<div class="article-body__content article-body__content--2"><p>{P[2]}</p><p>{P[3]}</p></div>{ad}<div class="article-body__end"><p>{P[4]}</p></div></article></main><aside><h3>Most read</h3><ul><li><a href="/a">A story about something else entirely today</a></li></ul></aside></body></html>'
        out[f'{lang}_chunks']=(h,P)
        # 5 final short after list
        h=f'<html><head><title>Road closed</title></head><body><main><article><h1>Road closed</h1><div class="content"><p>{P[0]}</p><p>{P[1]}</p><p>Key points:</p><ul><li>Closed for three months</li><li>Detour via Route 9</li></ul><p>{P[2]}</p><p>The vote was 7 to 2.</p></div></article></main></body></html>'
        out[f'{lang}_final_after_list']=(h,[P[0],P[1],'Key points:','Closed for three months','Detour via Route 9',P[2],'The vote was 7 to 2.'])
        # 10 strong subheads and blockquote
        h=f'<html><head><title>Road closed</title></head><body><main><article><h1>Road closed</h1><div class="entry"><p>{P[0]}</p><p><strong>Die Kosten</strong></p><p>{P[1]}</p><blockquote><p>„Wir tun alles, damit die Läden erreichbar bleiben“, sagte Weber.</p></blockquote><p>{P[2]}</p><p>{P[3]}</p></div></article></main></body></html>'
        out[f'{lang}_strong_quote']=(h,[P[0],'Die Kosten',P[1],'„Wir tun alles, damit die Läden erreichbar bleiben“, sagte Weber.',P[2],P[3]])
        # 11 spans with br inside div, 2008 style div layout with sidebar teasers
        side='<div id="right">'+''.join(f'<div class="box"><a href="/t{i}"><b>Other headline {i}</b></a><p>A short teaser that introduces the other story {i} and goes on a bit longer here.</p></div>' for i in range(5))+'</div>'
        h=f'<html><head><title>Road closed</title></head><body><div id="left"><a href="/a">A</a> <a href="/b">B</a></div><div id="center"><span class="titel">Road closed</span><br><span class="datum">12.03.2008</span><div>'+'<br><br>'.join(f'<span>{p}</span>' for p in P)+f'</div></div>{side}</body></html>'
        out[f'{lang}_spans_sidebar']=(h,P)

    for lang,P in LANGS.items():
        cell='<td valign=top><center><font size=4><b>Road closed</b></font></center><div align=justify><font face=Verdana size=1>'+'<br>&nbsp;<br>'.join(P)+'</font></div></td>'
        out[f'{lang}_nbsp_br']=(page("Road closed",cell),P)
        cell='<td valign=top>'+''.join(f'<p><font face=Arial size=2>{p}</font></p><p>&nbsp;</p>' for p in P)+'</td>'
        out[f'{lang}_nbsp_p']=(page("Road closed",cell),P)
        # text directly in body-level div with no block wrapper, split by <p> only at start
        cell='<td valign=top><div class="text">'+P[0]+'<p>'+P[1]+'<p>'+P[2]+'</p><div class="ad"><script>ad()</script></div>'+P[3]+'<br><br>'+P[4]+'</div></td>'
        out[f'{lang}_mixed_inline']=(page("Road closed",cell),P)
        # byline + date lines before text in cell
        cell=f'<td valign=top><h1>Road closed</h1><i>Von Hans Müller</i><br>12.03.2008 | 14:35 Uhr<br><br>'+'<br><br>'.join(P)+'</td>'
        out[f'{lang}_byline_lines']=(page("Road closed",cell),['Von Hans Müller']+P)

    SP='<td width=1 bgcolor="#cccccc"><img src="/spacer.gif" width=1 height=1></td>'
    for lang,P in LANGS.items():
        nav='<table width=150 cellpadding=0 cellspacing=0>'+''.join(f'<tr><td class="navi"><img src="/pfeil.gif"> <a href="/r{i}" class="navi">Rubrik {i}</a></td></tr><tr><td><img src="/spacer.gif" height=3></td></tr>' for i in range(15))+'</table>'
        tools='<table width="100%"><tr><td align=right><a href="/print"><img src="/print.gif"> Drucken</a> &nbsp; <a href="/send"><img src="/mail.gif"> Versenden</a></td></tr></table>'
        more='<table width="100%" cellpadding=2><tr><td colspan=2 bgcolor="#003366"><font color=white><b>Weitere Artikel</b></font></td></tr>'+''.join(f'<tr><td valign=top><img src="/t{i}.jpg" width=60></td><td valign=top><a href="/a{i}"><b>Andere Schlagzeile Nummer {i}</b></a><br><font size=1>Kurzer Anreißer zur anderen Meldung, der neugierig machen soll ...</font></td></tr>' for i in range(4))+'</table>'
        art=f'<table width="100%" cellpadding=0 cellspacing=0><tr><td><font size=1 color="#666666">Lokales &gt; Gemeinde</font></td></tr><tr><td><font size=5 face=Arial><b>Road closed</b></font></td></tr><tr><td><font size=1>12.03.2008 - 14:35 Uhr</font></td></tr><tr><td>{tools}</td></tr><tr><td><font face=Arial size=2>'+'<br><br>'.join(P[:3])+'<br><br><table align=left cellpadding=4><tr><td><img src="/bild.jpg" width=200><br><font size=1>Die Straße im Winter (Foto: Archiv)</font></td></tr></table>'+'<br><br>'.join(P[3:])+f'</font></td></tr><tr><td>{tools}</td></tr><tr><td>{more}</td></tr></table>'
        right='<table width=160>'+''.join(f'<tr><td><a href="http://ads.example/{i}"><img src="/ad{i}.gif"></a></td></tr>' for i in range(3))+'<tr><td><b>Umfrage</b><br>Sind Sie für die Sperrung?<br><input type=radio> Ja<br><input type=radio> Nein<br><input type=submit value=Abstimmen></td></tr></table>'
        h=f'<html><head><title>Road closed - Tageblatt Online</title></head><body topmargin=0><center><table width=900 cellpadding=0 cellspacing=0 border=0><tr><td colspan=5><img src="/kopf.jpg"></td></tr><tr><td colspan=5 bgcolor="#003366"><a href="/"><font color=white>Startseite</font></a> | <a href="/abo"><font color=white>Abo</font></a> | <a href="/anz"><font color=white>Anzeigen</font></a></td></tr><tr><td width=150 valign=top>{nav}</td>{SP}<td width=560 valign=top>{art}</td>{SP}<td width=160 valign=top>{right}</td></tr><tr><td colspan=5 align=center><font size=1>&copy; 2008 Tageblatt Verlag GmbH | <a href="/imp">Impressum</a> | <a href="/ds">Datenschutz</a> | <a href="/agb">AGB</a></font></td></tr></table></center></body></html>'
        out[f'{lang}_real_2008']=(h,P)
        # variant: article paragraphs as <p> with class text inside td, related links as ul
        art2=f'<td width=560 valign=top class="content"><h1 class="headline">Road closed</h1><p class="date">12.03.2008</p>'+''.join(f'<p class="text">{p}</p>' for p in P)+'<p><b>Mehr zum Thema:</b></p><ul>'+''.join(f'<li><a href="/m{i}">Andere Meldung zum Thema {i}</a></li>' for i in range(3))+'</ul><p class="autor">Von Hans Müller</p></td>'
        h2=f'<html><head><title>Road closed</title></head><body><table width=900><tr><td width=150 valign=top>{nav}</td>{art2}<td width=160 valign=top>{right}</td></tr></table></body></html>'
        out[f'{lang}_real_2008_p']=(h2,P+['Von Hans Müller'])

    (root / "html").mkdir(parents=True, exist_ok=True)
    (root / "gold").mkdir(parents=True, exist_ok=True)
    for key, (html, gold) in out.items():
        (root / "html" / f"{key}.html").write_text(html, encoding="utf-8")
        (root / "gold" / f"{key}.txt").write_text("\n\n".join(gold), encoding="utf-8")
    print(f"{root}: {len(out)} pages")


def tokens(text: str) -> collections.Counter:
    return collections.Counter(re.findall(r"\w+", text.lower()))


def score(root: Path, pred: Path) -> None:
    tp = fp = fn = 0
    for gold_file in sorted((root / "gold").glob("*.txt")):
        guess_file = pred / gold_file.name
        gold = tokens(gold_file.read_text(encoding="utf-8"))
        guess = tokens(guess_file.read_text(encoding="utf-8") if guess_file.exists() else "")
        hit = sum((gold & guess).values())
        extra, missed = sum(guess.values()) - hit, sum(gold.values()) - hit
        f1 = 2 * hit / (2 * hit + extra + missed) if hit else 0.0
        tp, fp, fn = tp + hit, fp + extra, fn + missed
        if f1 < 0.97:
            print(f"{gold_file.stem:28s} f1={f1:.3f} extra={extra} missed={missed}")
    print(f"total f1={2 * tp / (2 * tp + fp + fn):.4f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["make"] and len(sys.argv) == 3:
        make(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["score"] and len(sys.argv) == 4:
        score(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        raise SystemExit(__doc__)
