"""The 20 intents the classifier knows, with a one-line Spanish description each.

The descriptions fill the DB ``intents`` table and are shown to the LLM teacher, so they are
written for a reader that has to label a customer's WhatsApp message.
"""

from __future__ import annotations

OUT_OF_SCOPE = "fuera_de_alcance"

INTENTS: dict[str, str] = {
    "saludo": "Solo saluda («hola», «buenas tardes»); si el saludo trae un pedido, gana el pedido.",
    "despedida": "Se despide («chau», «hasta luego», «gracias, chau»).",
    "agradecimiento": "Solo agradece («muchas gracias», «mil gracias», «grax»).",
    "consultar_precio": "Pregunta el precio de un producto o de algo («cuánto cuesta el pie?»).",
    "consultar_catalogo": "Pregunta qué se vende, la carta o lista, qué hay en una categoría o más opciones.",
    "consultar_disponibilidad": "Pregunta si un producto o tipo está disponible o hay stock ahora.",
    "consultar_pago": "Pregunta cómo pagar, qué medios aceptan o los datos para pagar («aceptan tarjeta?»).",
    "consultar_delivery": "Pregunta por delivery, zonas, costo o tiempo de envío, recojo, local u horario.",
    "consultar_promociones": "Pregunta por promociones, ofertas, descuentos o combos.",
    "agregar_producto": "Quiere comprar o agregar algo al pedido («quiero 2 tortas», «dame esa»).",
    "ver_carrito": "Quiere ver su pedido o el total hasta ahora («cuánto va mi pedido?»).",
    "modificar_cantidad": "Cambia la cantidad de un producto del pedido o quita uno («mejor que sean 2»).",
    "vaciar_carrito": "Quiere vaciar todo el carrito o empezar de cero («borra todo»).",
    "confirmar_pedido": "Cierra el pedido: confirma, elige recojo o delivery o el medio de pago final.",
    "cancelar_pedido": "Cancela el pedido o ya no quiere comprar («cancela mi pedido»).",
    "confirmar_pago": "Dice que ya pagó o envió el comprobante («ya te yapeé», «te mandé la captura»).",
    "solicitar_humano": "Pide hablar con una persona, un asesor o el dueño.",
    "queja_reclamo": "Se queja o reclama: mala experiencia, enojo, demora, nadie le responde.",
    "problema_pago": "Tiene un problema u objeción con el pago («no tengo yape», «no me pasa la tarjeta»).",
    OUT_OF_SCOPE: "No tiene que ver con comprar en la tienda (fútbol, clima, chistes, tareas, spam).",
}


# Intents that only read data: safe to answer even when the model is not sure.
INFORMATIONAL = frozenset({
    "saludo", "despedida", "agradecimiento", "consultar_precio", "consultar_catalogo",
    "consultar_disponibilidad", "consultar_pago", "consultar_delivery", "consultar_promociones",
    "ver_carrito", "fuera_de_alcance",
})
ESCALATING = frozenset({"solicitar_humano", "queja_reclamo"})
