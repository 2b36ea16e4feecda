"""Hand-labelled sentences for the text models: (text, language, sentiment class).

Written for these tests, in the register of captions and comments: clearly positive (``pos``),
clearly negative (``neg``) or neutral (``neu``: information, questions, plans). Language
``None`` means there is no language to find (emoji only).
"""

from __future__ import annotations

ENGLISH: list[tuple[str, str, str]] = [
    ("What a fantastic morning run, feeling great!", "en", "pos"),
    ("I absolutely love these new sneakers 😍", "en", "pos"),
    ("Best concert of my life, thank you so much", "en", "pos"),
    ("Such a beautiful sunset tonight ✨", "en", "pos"),
    ("This cafe is amazing, the staff were so friendly", "en", "pos"),
    ("Congratulations to the whole team, well deserved win 🎉", "en", "pos"),
    ("So happy to finally be home with my family", "en", "pos"),
    ("Worst customer service I have ever experienced", "en", "neg"),
    ("The shoes fell apart after two weeks, total waste of money", "en", "neg"),
    ("I hate waiting in line for hours 😡", "en", "neg"),
    ("Really disappointed with the quality this time", "en", "neg"),
    ("Terrible weather ruined our whole trip", "en", "neg"),
    ("This update is awful and the app keeps crashing", "en", "neg"),
    ("Not good at all, I would never buy this again", "en", "neg"),
    ("Heading to the office now", "en", "neu"),
    ("The store opens at nine tomorrow", "en", "neu"),
    ("Where did you buy that jacket?", "en", "neu"),
    ("New collection drops on Friday", "en", "neu"),
    ("We are taking the train to Lyon this weekend", "en", "neu"),
    ("Photo taken last Tuesday in the old town", "en", "neu"),
]

SPANISH: list[tuple[str, str, str]] = [
    ("¡Qué día tan bonito en la playa con mis amigos!", "es", "pos"),
    ("Me encantan estas zapatillas, son comodísimas", "es", "pos"),
    ("El mejor concierto de mi vida, gracias a todos", "es", "pos"),
    ("Estoy muy feliz con el resultado 😊", "es", "pos"),
    ("La comida estaba deliciosa y el servicio fue excelente", "es", "pos"),
    ("Felicidades al equipo, un partido increíble", "es", "pos"),
    ("Qué maravilla de atardecer, precioso", "es", "pos"),
    ("El peor servicio que he tenido nunca", "es", "neg"),
    ("Muy decepcionado con la calidad de este producto", "es", "neg"),
    ("Odio esperar tanto, es horrible", "es", "neg"),
    ("Las zapatillas se rompieron en una semana, una estafa", "es", "neg"),
    ("Qué tristeza, cancelaron el viaje otra vez", "es", "neg"),
    ("No me gusta nada el nuevo diseño, es feo", "es", "neg"),
    ("Un desastre de organización, nunca más", "es", "neg"),
    ("Mañana salimos hacia Madrid a las ocho", "es", "neu"),
    ("¿Dónde compraste esa chaqueta?", "es", "neu"),
    ("La tienda abre el lunes por la mañana", "es", "neu"),
    ("Esta semana trabajo desde casa", "es", "neu"),
    ("Foto tomada el martes en el centro de la ciudad", "es", "neu"),
    ("La nueva colección sale el viernes", "es", "neu"),
]

FRENCH: list[tuple[str, str, str]] = [
    ("Une journée magnifique au bord de la mer avec les amis", "fr", "pos"),
    ("J'adore ces nouvelles baskets, elles sont parfaites", "fr", "pos"),
    ("Le meilleur concert de ma vie, merci à tous", "fr", "pos"),
    ("Tellement heureuse de vous retrouver ce soir 🥰", "fr", "pos"),
    ("Un repas délicieux et un accueil chaleureux, bravo", "fr", "pos"),
    ("Quelle belle victoire, félicitations à l'équipe !", "fr", "pos"),
    ("Superbe coucher de soleil sur Paris", "fr", "pos"),
    ("Le pire service client que j'ai jamais vu", "fr", "neg"),
    ("Très déçu par la qualité, les chaussures sont déjà abîmées", "fr", "neg"),
    ("Je déteste attendre des heures pour rien", "fr", "neg"),
    ("Quelle journée horrible, tout est allé de travers", "fr", "neg"),
    ("C'est nul, je ne recommande pas du tout", "fr", "neg"),
    ("Encore un retard, c'est vraiment insupportable 😤", "fr", "neg"),
    ("Triste nouvelle ce matin, le magasin ferme", "fr", "neg"),
    ("Nous partons pour Lyon demain matin", "fr", "neu"),
    ("Tu as acheté cette veste où ?", "fr", "neu"),
    ("Le magasin ouvre lundi à neuf heures", "fr", "neu"),
    ("Cette semaine je travaille à la maison", "fr", "neu"),
    ("Photo prise mardi dans la vieille ville", "fr", "neu"),
    ("La nouvelle collection sort vendredi", "fr", "neu"),
]

EMOJI_ONLY: list[tuple[str, None, str]] = [
    ("😍😍😍", None, "pos"),
    ("❤️", None, "pos"),
    ("🔥🔥", None, "pos"),
    ("🥰✨", None, "pos"),
    ("😂😂", None, "pos"),
    ("🎉🙌", None, "pos"),
    ("👍🏽", None, "pos"),
    ("💯", None, "pos"),
    ("😡", None, "neg"),
    ("😢😢", None, "neg"),
    ("💔", None, "neg"),
    ("👎", None, "neg"),
    ("🤮", None, "neg"),
    ("😞", None, "neg"),
    ("🙄", None, "neg"),
    ("📸", None, "neu"),
    ("📍🌍", None, "neu"),
    ("☕", None, "neu"),
    ("👟", None, "neu"),
    ("🇫🇷", None, "neu"),
]

#: A few in the other languages of the fallback, each class.
OTHERS: list[tuple[str, str, str]] = [
    ("Que dia maravilhoso, amei cada momento", "pt", "pos"),
    ("Péssimo atendimento, nunca mais volto aqui", "pt", "neg"),
    ("Amanhã vamos para o Porto de comboio", "pt", "neu"),
    ("Was für ein wunderschöner Tag am See", "de", "pos"),
    ("Schrecklicher Service, ich bin total enttäuscht", "de", "neg"),
    ("Morgen fahren wir mit dem Zug nach Berlin", "de", "neu"),
    ("Che giornata fantastica, sono felicissima", "it", "pos"),
    ("Servizio pessimo, non ci torno più", "it", "neg"),
    ("Domani partiamo per Roma in treno", "it", "neu"),
]
