"""Small, business-independent Spanish word lists used by the entity extractor.

Nothing here names a product, a zone or a payment account of any business: those come from the
tenant's rows. These lists only say which ordinary words must never be taken for catalog names,
which words are measure units, and how Spanish forms plurals and diminutives.
"""

from __future__ import annotations

from functools import lru_cache


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CONNECTORS = frozenset({"de", "del", "a", "al", "la", "el", "los", "las", "con", "en", "e", "para"})
"""Words that may sit inside a multi-word name ("torta de chocolate", "suspiro a la limena",
"soporte para carro"): never a content word of a name, so "cable para iphone" is "cable iphone"
(customers write "pa", "pal", which ``normalize`` reads as "para", "para el")."""

POSSESSIVES = frozenset({"mi", "mis", "tu", "tus", "su", "sus"})
"""Words that may follow a connector inside a mention ("case para mi a54", "funda de mi iphone")."""

ARTICLES = frozenset({"el", "la", "los", "las", "lo", "esa", "ese", "esos", "esas", "esta", "este", "estos",
                      "estas", "mi", "mis", "tu", "tus", "su", "sus"})

FUNCTION_WORDS = CONNECTORS | ARTICLES | _words("""
te me se le lo nos que y o u un una uno si no ya mas por para sin ni pues tu yo
""")
"""Words too common to be a product on their own, even when a catalog names one that way."""

# Ordinary words (normalized) that must never be fuzzily read as a catalog name.
COMMON_WORDS = _words("""
a al algo alguien alguna alguno algunos alla alli aqui aca ahi ahora aun asi ayer ante antes apenas
bien bueno buena buenas buenos bastante cada casa caso claro como con contra cual cuales cuando cuanto
cuanta cuantos cuantas cuesta cuestan costo costaria cobran cobra de del desde donde dos durante el
ella ello ellos ellas en entre era eres es esa ese eso esos esas esta este esto estos estas estan estoy
estas estamos fue fueron gracias hay haber hace hacen hacer hasta hola hoy igual incluso ir la las le
les lo los mas mañana manana me mi mis mismo mucho muchos mucha muchas muy nada nadie ni no nos nosotros
nunca o otra otro otros otras para pero poco por porque pues que quien quienes quiero quiere quieres
queria quisiera se sea ser si sin sobre solo son soy su sus tal tambien tan tanto te tener tengo tiene
tienen tienes toda todo todos todas tu tus un una uno unos unas usted ustedes va van vez voy ya yo
dame deme dar den dan das damelo mandame manda mandar mande envia envie enviar enviame envio pido pedir
pedido pedidos orden compra comprar compro llevar llevo lleva agrega agregar agregale agregame ponle
pon poner pone ponme sumale suma quita quitar quitale saca sacale cambia cambiar cambialo borra borrar
precio precios cuanto vale valen oferta ofertas promo promocion promociones descuento combo combos
carta menu lista catalogo foto fotos imagen venden vendes vende tienda local direccion horario hora
horas abren cierran abierto cerrado delivery envio recojo recoger paso pasar llega llegar llego tarde
temprano noche dia dias semana mes año hoy total cuenta pago pagar pague pagos pagar tarjeta
persona personas gente senor senora senorita amigo amiga chica chico chicas chicos nino nina joven
favor gracia saludo saludos chau adios hasta luego nos vemos ok dale listo ya bueno claro perfecto genial
chevere bacan excelente super mal malo mala pesimo horrible frio fria caliente rico rica ricos ricas
grande grandes chico pequeno pequena mediano mediana familiar personal entero entera mitad medio media
tipo tipos clase clases sabor sabores variedad modelo modelos marca marcas talla tallas color colores
stock queda quedan quedo disponible disponibles hay habra tendran tendra tendras
numero celular telefono whatsapp mensaje mensajes respuesta responde responden contesta
problema error falla reclamo queja libro devolucion reembolso plata dinero soles sol lucas vuelto
otra otro mas menos cero solo sola juntos junto cosa cosas algo nada todo
qmark exclam emo emo_pos emo_neg url zprod jaja
como cuando donde quien cual
hacer hago haces hace haria podria puedo puede pueden podemos podrias sabe sabes saber
esto eso aquello aquel aquella carrito carro canasta
señor señora señorita niño niña pequeño pequeña años
""")

UNIT_WORDS = _words("""
caja vaso jarra unidad porcion pedazo tajada trozo bolsa paquete kilo kg gr gramo litro lt ml botella
plato tarro lata galon gal metro mt rollo taza copa pieza juego set pack docena bandeja molde tubo
frasco sobre saco bolsita cajita vasito ciento millar
""")

SIZE_WORDS = _words("""
grande grandes chico chica chicos chicas pequeno pequena pequenos pequenas mediano mediana medianos
medianas familiar familiares personal personales entero entera enteros enteras mas extra
pequeño pequeña pequeños pequeñas chiquito chiquita chiquitos chiquitas grandecito grandecita grandote grandota
""")

NOT_A_VARIANT = _words("""
cumpleanos cumpleaños aniversario matrimonio boda bautizo bautismo regalo navidad fiesta fiestas evento
reunion oficina trabajo colegio siempre verdad antes despues ahorita rapido rapidito urgente
helada heladas heladita heladitas heladito heladitos tibio tibia calientito calientita fresquito fresquita
""")
"""Words that say what a product is for, when or how it is served, not which kind ("una torta de
cumpleaños", "una cerveza helada"): never read as an unknown variant of a product."""

GEO_GENERIC = _words("""
san santa santo villa cercado lima distrito zona norte sur este oeste centro alto alta bajo baja nuevo
nueva nuevos viejo puente puerto playa
""")

ZONE_ABBREVIATIONS = {"sn": "san", "stgo": "santiago", "smp": "smp", "sjl": "sjl", "sjm": "sjm"}

_STEM_E_CONSONANTS = frozenset("rlndzjy")


@lru_cache(maxsize=16384)
def stem(token: str) -> str:
    """Light Spanish singular + diminutive folding, applied identically to names and customer text.

    Not linguistically exact; what matters is that singular/plural and diminutive forms of the
    same word land on the same stem: "tortas"/"torta"/"tortita" -> "tort a", "alfajores"/"alfajor".
    """
    if len(token) < 4 or not token.isalpha():
        return token
    word = token
    if word.endswith("s"):
        word = word[:-1]
    if len(word) >= 6 and word.endswith(("ito", "ita")):
        base = word[:-3]
        if base.endswith("c") and len(base) >= 4:
            word = base[:-1]
        elif len(base) >= 3:
            word = base + word[-1]
    if len(word) >= 4 and word.endswith("ce"):
        return word[:-2] + "z"
    if len(word) >= 4 and word.endswith("e") and word[-2] in _STEM_E_CONSONANTS:
        return word[:-1]
    return word
