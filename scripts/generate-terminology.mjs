#!/usr/bin/env node
// node scripts/generate-terminology.mjs: writes the demo translation catalogue terminology/
// (one CodeSystem supplement per code system, each with the six demo languages) from the
// compact table below. The translations were written for the Pontis demo: they are NOT
// clinically validated. `node scripts/list-codes.mjs --missing` lists what a document needs
// and the catalogue lacks; test/terminology/catalogue-coverage.test.ts keeps them complete.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'terminology');
const LANGUAGES = ['en', 'de', 'pt', 'fr', 'es', 'it'];
const VERSION = '0.1.0';
const SECTION_TITLE_USE = { system: 'https://pontis.example.eu/fhir/CodeSystem/designation-use', code: 'section-title', display: 'Section title' };
const THO = 'http://terminology.hl7.org/CodeSystem/';
const DISCLAIMER =
  'Written for the Pontis demonstration: these translations are NOT clinically validated and must not be used for patient care. ' +
  "A Member State replaces the whole catalogue with its Master Translation/Transcoding Catalogue (MTC) export (PONTIS_TERMINOLOGY).";

// Each block: code | en | de | pt | fr | es | it   (one concept a line)
const SYSTEMS = [
  ['loinc', 'http://loinc.org', 'LOINC', `
60591-5 | Patient summary document | Patientenkurzakte (Dokument) | Resumo do doente (documento) | Synthèse du patient (document) | Resumen del paciente (documento) | Profilo sanitario sintetico (documento)
48765-2 | Allergies and adverse reactions document | Allergien und Nebenwirkungen (Dokument) | Alergias e reações adversas (documento) | Allergies et réactions indésirables (document) | Alergias y reacciones adversas (documento) | Allergie e reazioni avverse (documento)
11450-4 | Problem list - reported | Problemliste - berichtet | Lista de problemas - relatados | Liste des problèmes - rapportés | Lista de problemas - notificados | Elenco dei problemi - riferiti
10160-0 | History of medication use narrative | Medikationsanamnese (Freitext) | Histórico de medicação (narrativa) | Historique de la prise de médicaments (texte libre) | Historial de uso de medicación (narrativa) | Anamnesi farmacologica (narrativa)
11369-6 | History of immunization narrative | Impfanamnese (Freitext) | Histórico de vacinação (narrativa) | Historique des vaccinations (texte libre) | Historial de vacunación (narrativa) | Storia delle vaccinazioni (narrativa)
30954-2 | Relevant diagnostic tests/laboratory data narrative | Relevante diagnostische Untersuchungen/Laborwerte (Freitext) | Exames de diagnóstico/dados laboratoriais relevantes (narrativa) | Examens diagnostiques/données de laboratoire pertinents (texte libre) | Pruebas diagnósticas/datos de laboratorio relevantes (narrativa) | Esami diagnostici/dati di laboratorio rilevanti (narrativa)
47519-4 | History of procedures document | Eingriffsanamnese (Dokument) | Histórico de procedimentos (documento) | Historique des actes (document) | Historial de procedimientos (documento) | Storia delle procedure (documento)
46264-8 | History of medical device use | Anamnese der Medizinprodukte | Histórico de utilização de dispositivos médicos | Historique d'utilisation des dispositifs médicaux | Historial de uso de dispositivos médicos | Storia dell'uso di dispositivi medici
8716-3 | Vital signs note | Vitalparameter | Sinais vitais | Signes vitaux | Signos vitales | Parametri vitali
11348-0 | History of past illness note | Anamnese früherer Erkrankungen | Antecedentes patológicos | Antécédents médicaux | Antecedentes de enfermedades previas | Anamnesi patologica remota
47420-5 | Functional status assessment note | Beurteilung des funktionellen Status | Avaliação do estado funcional | Évaluation de l'état fonctionnel | Evaluación del estado funcional | Valutazione dello stato funzionale
18776-5 | Plan of care note | Behandlungsplan | Plano de cuidados | Plan de soins | Plan de cuidados | Piano di cura
29762-2 | Social history note | Sozialanamnese | História social | Anamnèse sociale | Historia social | Anamnesi sociale
10162-6 | History of pregnancies narrative | Schwangerschaftsanamnese (Freitext) | Histórico de gravidezes (narrativa) | Antécédents de grossesses (texte libre) | Historial de embarazos (narrativa) | Storia delle gravidanze (narrativa)
42348-3 | Advance healthcare directives | Patientenverfügungen | Diretivas antecipadas de vontade | Directives anticipées | Instrucciones previas | Disposizioni anticipate di trattamento
104605-1 | Alert | Warnhinweis | Alerta | Alerte | Alerta | Allerta
81338-6 | Patient goals, preferences, and priorities for care experience | Ziele, Präferenzen und Prioritäten des Patienten für die Versorgung | Objetivos, preferências e prioridades do doente para os cuidados | Objectifs, préférences et priorités du patient pour les soins | Objetivos, preferencias y prioridades del paciente para la atención | Obiettivi, preferenze e priorità del paziente per l'assistenza
75326-9 | Problem | Problem | Problema | Problème | Problema | Problema
75310-3 | Health concerns document | Gesundheitliche Anliegen (Dokument) | Preocupações de saúde (documento) | Préoccupations de santé (document) | Problemas de salud (documento) | Problemi di salute (documento)
55188-7 | Patient data document | Patientendaten (Dokument) | Dados do doente (documento) | Données du patient (document) | Datos del paciente (documento) | Dati del paziente (documento)
59284-0 | Patient consent | Einwilligung des Patienten | Consentimento do doente | Consentement du patient | Consentimiento del paciente | Consenso del paziente
11502-2 | Laboratory report | Laborbefund | Relatório laboratorial | Compte rendu de laboratoire | Informe de laboratorio | Referto di laboratorio
4548-4 | Hemoglobin A1c/Hemoglobin.total in Blood | Hämoglobin A1c/Gesamthämoglobin im Blut | Hemoglobina A1c/hemoglobina total no sangue | Hémoglobine A1c/hémoglobine totale dans le sang | Hemoglobina A1c/hemoglobina total en sangre | Emoglobina A1c/emoglobina totale nel sangue
17856-6 | Hemoglobin A1c/Hemoglobin.total in Blood by HPLC | Hämoglobin A1c/Gesamthämoglobin im Blut mittels HPLC | Hemoglobina A1c/hemoglobina total no sangue por HPLC | Hémoglobine A1c/hémoglobine totale dans le sang par HPLC | Hemoglobina A1c/hemoglobina total en sangre por HPLC | Emoglobina A1c/emoglobina totale nel sangue mediante HPLC
3016-3 | Thyrotropin [Units/volume] in Serum or Plasma | Thyreotropin (TSH) [Einheiten/Volumen] in Serum oder Plasma | Tirotropina (TSH) [unidades/volume] no soro ou plasma | Thyréostimuline (TSH) [unités/volume] dans le sérum ou le plasma | Tirotropina (TSH) [unidades/volumen] en suero o plasma | Tireotropina (TSH) [unità/volume] nel siero o plasma
19926-5 | FEV1/FVC | FEV1/FVC (Tiffeneau-Index) | FEV1/FVC (índice de Tiffeneau) | VEMS/CVF (rapport de Tiffeneau) | FEV1/FVC (índice de Tiffeneau) | FEV1/FVC (indice di Tiffeneau)
33762-6 | NT-proBNP [Mass/volume] in Serum or Plasma | NT-proBNP [Masse/Volumen] in Serum oder Plasma | NT-proBNP [massa/volume] no soro ou plasma | NT-proBNP [masse/volume] dans le sérum ou le plasma | NT-proBNP [masa/volumen] en suero o plasma | NT-proBNP [massa/volume] nel siero o plasma
718-7 | Hemoglobin [Mass/volume] in Blood | Hämoglobin [Masse/Volumen] im Blut | Hemoglobina [massa/volume] no sangue | Hémoglobine [masse/volume] dans le sang | Hemoglobina [masa/volumen] en sangre | Emoglobina [massa/volume] nel sangue
2160-0 | Creatinine [Mass/volume] in Serum or Plasma | Kreatinin [Masse/Volumen] in Serum oder Plasma | Creatinina [massa/volume] no soro ou plasma | Créatinine [masse/volume] dans le sérum ou le plasma | Creatinina [masa/volumen] en suero o plasma | Creatinina [massa/volume] nel siero o plasma
882-1 | ABO and Rh group [Type] in Blood | AB0- und Rh-Blutgruppe [Typ] im Blut | Grupo ABO e Rh [tipo] no sangue | Groupe ABO et Rh [type] dans le sang | Grupo ABO y Rh [tipo] en sangre | Gruppo ABO e Rh [tipo] nel sangue
945-6 | C Ab [Presence] in Serum or Plasma | Anti-C-Antikörper [Nachweis] in Serum oder Plasma | Anticorpo anti-C [presença] no soro ou plasma | Anticorps anti-C [présence] dans le sérum ou le plasma | Anticuerpo anti-C [presencia] en suero o plasma | Anticorpo anti-C [presenza] nel siero o plasma
1018-1 | E Ab [Presence] in Serum or Plasma | Anti-E-Antikörper [Nachweis] in Serum oder Plasma | Anticorpo anti-E [presença] no soro ou plasma | Anticorps anti-E [présence] dans le sérum ou le plasma | Anticuerpo anti-E [presencia] en suero o plasma | Anticorpo anti-E [presenza] nel siero o plasma
1156-9 | little c Ab [Presence] in Serum or Plasma | Anti-c-Antikörper (klein c) [Nachweis] in Serum oder Plasma | Anticorpo anti-c (c minúsculo) [presença] no soro ou plasma | Anticorps anti-c (petit c) [présence] dans le sérum ou le plasma | Anticuerpo anti-c (c minúscula) [presencia] en suero o plasma | Anticorpo anti-c (c minuscolo) [presenza] nel siero o plasma
42803-7 | Bacteria identified in Isolate | Identifizierte Bakterien im Isolat | Bactérias identificadas no isolado | Bactéries identifiées dans l'isolat | Bacterias identificadas en el aislado | Batteri identificati nell'isolato
32309-7 | Cholesterol.total/Cholesterol in HDL [Molar ratio] in Serum or Plasma | Gesamtcholesterin/HDL-Cholesterin [molares Verhältnis] in Serum oder Plasma | Colesterol total/colesterol HDL [razão molar] no soro ou plasma | Cholestérol total/cholestérol HDL [rapport molaire] dans le sérum ou le plasma | Colesterol total/colesterol HDL [razón molar] en suero o plasma | Colesterolo totale/colesterolo HDL [rapporto molare] nel siero o plasma
49062-3 | Lipid risk factors [Finding] | Lipid-Risikofaktoren [Befund] | Fatores de risco lipídico [achado] | Facteurs de risque lipidiques [constatation] | Factores de riesgo lipídico [hallazgo] | Fattori di rischio lipidico [reperto]
39469-2 | Cholesterol in LDL [Moles/volume] in Serum or Plasma by calculation | LDL-Cholesterin [Stoffmenge/Volumen] in Serum oder Plasma, berechnet | Colesterol LDL [moles/volume] no soro ou plasma, calculado | Cholestérol LDL [moles/volume] dans le sérum ou le plasma, calculé | Colesterol LDL [moles/volumen] en suero o plasma, calculado | Colesterolo LDL [moli/volume] nel siero o plasma, calcolato
14927-8 | Triglyceride [Moles/volume] in Serum or Plasma | Triglyceride [Stoffmenge/Volumen] in Serum oder Plasma | Triglicéridos [moles/volume] no soro ou plasma | Triglycérides [moles/volume] dans le sérum ou le plasma | Triglicéridos [moles/volumen] en suero o plasma | Trigliceridi [moli/volume] nel siero o plasma
14647-2 | Cholesterol [Moles/volume] in Serum or Plasma | Cholesterin [Stoffmenge/Volumen] in Serum oder Plasma | Colesterol [moles/volume] no soro ou plasma | Cholestérol [moles/volume] dans le sérum ou le plasma | Colesterol [moles/volumen] en suero o plasma | Colesterolo [moli/volume] nel siero o plasma
14646-4 | Cholesterol in HDL [Moles/volume] in Serum or Plasma | HDL-Cholesterin [Stoffmenge/Volumen] in Serum oder Plasma | Colesterol HDL [moles/volume] no soro ou plasma | Cholestérol HDL [moles/volume] dans le sérum ou le plasma | Colesterol HDL [moles/volumen] en suero o plasma | Colesterolo HDL [moli/volume] nel siero o plasma
29463-7 | Body weight | Körpergewicht | Peso corporal | Poids corporel | Peso corporal | Peso corporeo
3141-9 | Body weight measured | Körpergewicht, gemessen | Peso corporal medido | Poids corporel mesuré | Peso corporal medido | Peso corporeo misurato
39156-5 | Body mass index (BMI) [Ratio] | Body-Mass-Index (BMI) [Verhältnis] | Índice de massa corporal (IMC) [razão] | Indice de masse corporelle (IMC) [rapport] | Índice de masa corporal (IMC) [razón] | Indice di massa corporea (IMC) [rapporto]
85354-9 | Blood pressure panel with all children optional | Blutdruck (Panel) | Pressão arterial (painel) | Pression artérielle (panel) | Presión arterial (panel) | Pressione arteriosa (pannello)
8480-6 | Systolic blood pressure | Systolischer Blutdruck | Pressão arterial sistólica | Pression artérielle systolique | Presión arterial sistólica | Pressione arteriosa sistolica
8462-4 | Diastolic blood pressure | Diastolischer Blutdruck | Pressão arterial diastólica | Pression artérielle diastolique | Presión arterial diastólica | Pressione arteriosa diastolica
72166-2 | Tobacco smoking status | Rauchstatus | Hábitos tabágicos | Statut tabagique | Tabaquismo | Abitudine al fumo
74013-4 | Alcoholic drinks per day | Alkoholische Getränke pro Tag | Bebidas alcoólicas por dia | Boissons alcoolisées par jour | Bebidas alcohólicas al día | Bevande alcoliche al giorno
82810-3 | Pregnancy status | Schwangerschaftsstatus | Estado de gravidez | Statut de grossesse | Estado de embarazo | Stato di gravidanza
11778-8 | Delivery date estimated | Voraussichtlicher Geburtstermin | Data prevista do parto | Date prévue d'accouchement | Fecha probable de parto | Data presunta del parto
11640-0 | [#] Births total | Anzahl Geburten gesamt | Número total de partos | Nombre total de naissances | Número total de partos | Numero totale di parti
16112-5 | Estrogen receptor [Interpretation] in Tissue | Östrogenrezeptor [Interpretation] im Gewebe | Recetor de estrogénio [interpretação] no tecido | Récepteur des œstrogènes [interprétation] dans le tissu | Receptor de estrógenos [interpretación] en tejido | Recettore degli estrogeni [interpretazione] nel tessuto
49569-7 | SPECT Heart perfusion and wall motion at rest and W stress and W Tl-201 IV and W Tc-99m Sestamibi IV | SPECT Herzperfusion und Wandbewegung in Ruhe und unter Belastung mit Tl-201 i.v. und Tc-99m-Sestamibi i.v. | SPECT de perfusão e motilidade cardíaca em repouso e em esforço com Tl-201 EV e Tc-99m-sestamibi EV | TEMP de perfusion et cinétique cardiaques au repos et à l'effort avec Tl-201 IV et Tc-99m-sestamibi IV | SPECT de perfusión y motilidad cardíaca en reposo y en esfuerzo con Tl-201 IV y Tc-99m-sestamibi IV | SPECT di perfusione e cinesi cardiaca a riposo e da sforzo con Tl-201 EV e Tc-99m-sestamibi EV
79103-8 | CT Abdomen W contrast IV | CT Abdomen mit i.v. Kontrastmittel | TC do abdómen com contraste EV | TDM de l'abdomen avec produit de contraste IV | TC de abdomen con contraste IV | TC dell'addome con mezzo di contrasto EV
42272-5 | XR Chest PA and Lateral | Röntgen Thorax p.a. und seitlich | Radiografia do tórax PA e perfil | Radiographie du thorax de face (PA) et de profil | Radiografía de tórax PA y lateral | Radiografia del torace PA e laterale
38181-4 | XR Chest Diameter.lateral | Röntgen Thorax, seitlicher Durchmesser | Radiografia do tórax, diâmetro lateral | Radiographie du thorax, diamètre latéral | Radiografía de tórax, diámetro lateral | Radiografia del torace, diametro laterale
5821-4 | Leukocytes [#/area] in Urine sediment by Microscopy high power field | Leukozyten [Anzahl/Fläche] im Urinsediment, Mikroskopie (Hauptgesichtsfeld) | Leucócitos [n.º/área] no sedimento urinário por microscopia de grande ampliação | Leucocytes [nombre/surface] dans le sédiment urinaire par microscopie au fort grossissement | Leucocitos [n.º/área] en sedimento urinario por microscopía de gran aumento | Leucociti [n./area] nel sedimento urinario per microscopia ad alto ingrandimento
LA15173-0 | Pregnant | Schwanger | Grávida | Enceinte | Embarazada | Gravida
LA15920-4 | Former smoker | Ehemaliger Raucher | Ex-fumador | Ancien fumeur | Exfumador | Ex fumatore
LA18978-9 | Never smoker | Nie-Raucher | Nunca fumou | N'a jamais fumé | Nunca fumador | Non ha mai fumato
LA6751-7 | Moderate | Mäßig | Moderado | Modéré | Moderado | Moderato
`],
  ['snomed-ct', 'http://snomed.info/sct', 'SNOMED CT', `
10828004 | Positive | Positiv | Positivo | Positif | Positivo | Positivo
260385009 | Negative | Negativ | Negativo | Négatif | Negativo | Negativo
108575001 | Product containing lisinopril | Arzneimittel mit Lisinopril | Medicamento que contém lisinopril | Médicament contenant du lisinopril | Medicamento que contiene lisinopril | Medicinale contenente lisinopril
108774000 | Product containing anastrozole | Arzneimittel mit Anastrozol | Medicamento que contém anastrozol | Médicament contenant de l'anastrozole | Medicamento que contiene anastrozol | Medicinale contenente anastrozolo
318913001 | Product containing cilazapril | Arzneimittel mit Cilazapril | Medicamento que contém cilazapril | Médicament contenant du cilazapril | Medicamento que contiene cilazapril | Medicinale contenente cilazapril
1119349007 | COVID-19 mRNA vaccine | COVID-19-mRNA-Impfstoff | Vacina de mRNA contra a COVID-19 | Vaccin à ARNm contre la COVID-19 | Vacuna de ARNm contra la COVID-19 | Vaccino a mRNA contro la COVID-19
836377006 | Influenza virus antigen vaccine | Influenza-Impfstoff | Vacina contra a gripe | Vaccin antigrippal | Vacuna antigripal | Vaccino antinfluenzale
836398006 | Pneumococcal vaccine | Pneumokokken-Impfstoff | Vacina antipneumocócica | Vaccin antipneumococcique | Vacuna antineumocócica | Vaccino antipneumococcico
863911006 | Tetanus and diphtheria vaccine | Tetanus-Diphtherie-Impfstoff | Vacina contra o tétano e a difteria | Vaccin diphtérie-tétanos | Vacuna antitetánica y antidiftérica | Vaccino antitetanico e antidifterico
871878002 | Diphtheria, tetanus, pertussis and poliomyelitis vaccine | Diphtherie-Tetanus-Pertussis-Poliomyelitis-Impfstoff | Vacina contra a difteria, o tétano, a tosse convulsa e a poliomielite | Vaccin diphtérie-tétanos-coqueluche-poliomyélite | Vacuna contra difteria, tétanos, tos ferina y poliomielitis | Vaccino antidifterite-tetano-pertosse-poliomielite
11207009 | Right thigh | Rechter Oberschenkel | Coxa direita | Cuisse droite | Muslo derecho | Coscia destra
16217661000119109 | Right deltoid muscle | Rechter Deltamuskel | Músculo deltoide direito | Muscle deltoïde droit | Músculo deltoides derecho | Muscolo deltoide destro
16217701000119102 | Left deltoid muscle | Linker Deltamuskel | Músculo deltoide esquerdo | Muscle deltoïde gauche | Músculo deltoides izquierdo | Muscolo deltoide sinistro
72098002 | Entire left upper arm | Gesamter linker Oberarm | Braço esquerdo (todo) | Bras gauche entier | Brazo izquierdo completo | Intero braccio sinistro
80891009 | Heart | Herz | Coração | Cœur | Corazón | Cuore
115329001 | Methicillin resistant Staphylococcus aureus | Methicillin-resistenter Staphylococcus aureus (MRSA) | Staphylococcus aureus resistente à meticilina (MRSA) | Staphylococcus aureus résistant à la méticilline (SARM) | Staphylococcus aureus resistente a la meticilina (SARM) | Staphylococcus aureus resistente alla meticillina (MRSA)
117259009 | Microscopy | Mikroskopie | Microscopia | Microscopie | Microscopía | Microscopia
122575003 | Urine specimen | Urinprobe | Amostra de urina | Échantillon d'urine | Muestra de orina | Campione di urina
73416001 | Urine specimen collection, clean catch | Gewinnung von Mittelstrahlurin | Colheita de urina do jato médio | Recueil d'urine de milieu de jet | Recogida de orina de chorro medio | Raccolta di urina da mitto intermedio
1255002008 | Shellfish free diet | Schalentierfreie Kost | Dieta sem marisco | Régime sans crustacés ni coquillages | Dieta sin marisco | Dieta priva di molluschi e crostacei
126485001 | Urticaria | Urtikaria | Urticária | Urticaire | Urticaria | Orticaria
13645005 | Chronic obstructive lung disease | Chronisch obstruktive Lungenerkrankung (COPD) | Doença pulmonar obstrutiva crónica (DPOC) | Bronchopneumopathie chronique obstructive (BPCO) | Enfermedad pulmonar obstructiva crónica (EPOC) | Broncopneumopatia cronica ostruttiva (BPCO)
158965000 | Doctor | Arzt/Ärztin | Médico | Médecin | Médico | Medico
81464008 | Clinical pathologist | Facharzt/Fachärztin für Labormedizin | Médico patologista clínico | Biologiste médical | Médico analista clínico | Medico di patologia clinica
195967001 | Asthma | Asthma | Asma | Asthme | Asma | Asma
198436008 | Menopausal flushing | Menopausale Hitzewallungen | Afrontamentos da menopausa | Bouffées de chaleur de la ménopause | Sofocos de la menopausia | Vampate di calore della menopausa
21719001 | Allergic rhinitis | Allergische Rhinitis | Rinite alérgica | Rhinite allergique | Rinitis alérgica | Rinite allergica
233258006 | Arterial angioplasty | Arterielle Angioplastie | Angioplastia arterial | Angioplastie artérielle | Angioplastia arterial | Angioplastica arteriosa
36969009 | Placement of stent in coronary artery | Stentimplantation in eine Koronararterie | Colocação de stent em artéria coronária | Pose d'un stent dans une artère coronaire | Colocación de stent en arteria coronaria | Posizionamento di stent in arteria coronaria
387713003 | Surgical procedure | Chirurgischer Eingriff | Procedimento cirúrgico | Intervention chirurgicale | Procedimiento quirúrgico | Procedura chirurgica
52734007 | Total hip replacement | Hüfttotalendoprothese | Artroplastia total da anca | Prothèse totale de hanche | Artroplastia total de cadera | Protesi totale d'anca
67270000 | Hip prosthesis | Hüftprothese | Prótese da anca | Prothèse de hanche | Prótesis de cadera | Protesi d'anca
24484000 | Severe | Schwer | Grave | Sévère | Grave | Grave
6736007 | Moderate severity | Mittelschwer | Gravidade moderada | Sévérité modérée | Gravedad moderada | Gravità moderata
248152002 | Female | Weiblich | Feminino | Féminin | Femenino | Femminile
248153007 | Male | Männlich | Masculino | Masculin | Masculino | Maschile
254837009 | Malignant tumor of breast | Bösartige Neubildung der Brustdrüse | Tumor maligno da mama | Tumeur maligne du sein | Tumor maligno de mama | Tumore maligno della mammella
416053008 | Estrogen receptor positive tumor | Östrogenrezeptor-positiver Tumor | Tumor com recetores de estrogénio positivos | Tumeur à récepteurs des œstrogènes positifs | Tumor con receptores de estrógenos positivos | Tumore positivo per i recettori degli estrogeni
91861009 | Acute myeloid leukemia | Akute myeloische Leukämie | Leucemia mieloide aguda | Leucémie aiguë myéloïde | Leucemia mieloide aguda | Leucemia mieloide acuta
256303006 | Ragweed pollen | Ambrosiapollen | Pólen de ambrósia | Pollen d'ambroisie | Polen de ambrosía | Polline di ambrosia
764146007 | Penicillin | Penicillin | Penicilina | Pénicilline | Penicilina | Penicillina
412588001 | Cimicifuga racemosa extract | Cimicifuga-racemosa-Extrakt (Traubensilberkerze) | Extrato de Cimicifuga racemosa | Extrait de Cimicifuga racemosa (actée à grappes) | Extracto de Cimicifuga racemosa | Estratto di Cimicifuga racemosa
262285001 | Weight decreased | Gewichtsabnahme | Perda de peso | Perte de poids | Pérdida de peso | Calo ponderale
27113001 | Body weight | Körpergewicht | Peso corporal | Poids corporel | Peso corporal | Peso corporeo
271807003 | Eruption of skin | Hautausschlag | Erupção cutânea | Éruption cutanée | Erupción cutánea | Eruzione cutanea
278149003 | Blood group A Rh(D) positive | Blutgruppe A Rh(D)-positiv | Grupo sanguíneo A Rh(D) positivo | Groupe sanguin A Rh(D) positif | Grupo sanguíneo A Rh(D) positivo | Gruppo sanguigno A Rh(D) positivo
27836007 | Pertussis | Keuchhusten (Pertussis) | Tosse convulsa (pertussis) | Coqueluche | Tos ferina (pertussis) | Pertosse
76902006 | Tetanus | Tetanus (Wundstarrkrampf) | Tétano | Tétanos | Tétanos | Tetano
397430003 | Diphtheria caused by Corynebacterium diphtheriae | Diphtherie durch Corynebacterium diphtheriae | Difteria causada por Corynebacterium diphtheriae | Diphtérie due à Corynebacterium diphtheriae | Difteria causada por Corynebacterium diphtheriae | Difterite da Corynebacterium diphtheriae
398102009 | Acute poliomyelitis | Akute Poliomyelitis | Poliomielite aguda | Poliomyélite aiguë | Poliomielitis aguda | Poliomielite acuta
293963004 | Allergy to cephalosporin | Allergie gegen Cephalosporine | Alergia a cefalosporinas | Allergie aux céphalosporines | Alergia a cefalosporinas | Allergia alle cefalosporine
294505008 | Allergy to aspirin | Allergie gegen Acetylsalicylsäure | Alergia ao ácido acetilsalicílico | Allergie à l'aspirine | Alergia al ácido acetilsalicílico | Allergia all'acido acetilsalicilico
300913006 | Shellfish allergy | Schalentierallergie | Alergia a marisco | Allergie aux fruits de mer | Alergia al marisco | Allergia ai frutti di mare
418689008 | Allergy to grass pollen | Gräserpollenallergie | Alergia ao pólen de gramíneas | Allergie au pollen de graminées | Alergia al polen de gramíneas | Allergia al polline di graminacee
91935009 | Allergy to peanuts | Erdnussallergie | Alergia ao amendoim | Allergie à l'arachide | Alergia al cacahuete | Allergia alle arachidi
91936005 | Allergy to penicillin | Penicillinallergie | Alergia à penicilina | Allergie à la pénicilline | Alergia a la penicilina | Allergia alla penicillina
304253006 | Not for resuscitation | Keine Wiederbelebung | Não reanimar | Ne pas réanimer | No reanimar | Non rianimare
370388006 | Patient immunocompromised | Patient immungeschwächt | Doente imunodeprimido | Patient immunodéprimé | Paciente inmunodeprimido | Paziente immunocompromesso
37796009 | Migraine | Migräne | Enxaqueca | Migraine | Migraña | Emicrania
38341003 | Hypertensive disorder | Hypertonie | Hipertensão arterial | Hypertension artérielle | Hipertensión arterial | Ipertensione arteriosa
59621000 | Essential hypertension | Essentielle Hypertonie | Hipertensão essencial | Hypertension essentielle | Hipertensión esencial | Ipertensione essenziale
386661006 | Fever | Fieber | Febre | Fièvre | Fiebre | Febbre
39579001 | Anaphylaxis | Anaphylaxie | Anafilaxia | Anaphylaxie | Anafilaxia | Anafilassi
40930008 | Hypothyroidism | Hypothyreose | Hipotiroidismo | Hypothyroïdie | Hipotiroidismo | Ipotiroidismo
431855005 | Chronic kidney disease stage 1 | Chronische Nierenkrankheit, Stadium 1 | Doença renal crónica estádio 1 | Maladie rénale chronique stade 1 | Enfermedad renal crónica estadio 1 | Malattia renale cronica stadio 1
44054006 | Diabetes mellitus type 2 | Diabetes mellitus Typ 2 | Diabetes mellitus tipo 2 | Diabète de type 2 | Diabetes mellitus tipo 2 | Diabete mellito di tipo 2
49436004 | Atrial fibrillation | Vorhofflimmern | Fibrilhação auricular | Fibrillation auriculaire | Fibrilación auricular | Fibrillazione atriale
55822004 | Hyperlipidemia | Hyperlipidämie | Hiperlipidemia | Hyperlipidémie | Hiperlipidemia | Iperlipidemia
84114007 | Heart failure | Herzinsuffizienz | Insuficiência cardíaca | Insuffisance cardiaque | Insuficiencia cardíaca | Insufficienza cardiaca
90560007 | Gout | Gicht | Gota | Goutte | Gota | Gotta
60001007 | Not pregnant | Nicht schwanger | Não grávida | Pas enceinte | No embarazada | Non gravida
82971005 | Impaired mobility | Eingeschränkte Mobilität | Mobilidade reduzida | Mobilité réduite | Movilidad reducida | Mobilità ridotta
73588009 | Hospital-based laboratory facility | Krankenhauslabor | Laboratório hospitalar | Laboratoire hospitalier | Laboratorio hospitalario | Laboratorio ospedaliero
428673006 | Tablet (unit of presentation) | Tablette | Comprimido | Comprimé | Comprimido | Compressa
385101003 | Ointment | Salbe | Pomada | Pommade | Pomada | Unguento
716186003 | No known allergy | Keine bekannte Allergie | Sem alergias conhecidas | Pas d'allergie connue | Sin alergias conocidas | Nessuna allergia nota
409137002 | No known drug allergy | Keine bekannte Arzneimittelallergie | Sem alergia medicamentosa conhecida | Pas d'allergie médicamenteuse connue | Sin alergia medicamentosa conocida | Nessuna allergia a farmaci nota
428607008 | No known environmental allergy | Keine bekannte Umweltallergie | Sem alergia ambiental conhecida | Pas d'allergie environnementale connue | Sin alergia ambiental conocida | Nessuna allergia ambientale nota
429625007 | No known food allergy | Keine bekannte Nahrungsmittelallergie | Sem alergia alimentar conhecida | Pas d'allergie alimentaire connue | Sin alergia alimentaria conocida | Nessuna allergia alimentare nota
160245001 | No current problems or disability | Keine aktuellen Probleme oder Behinderungen | Sem problemas ou incapacidades atuais | Aucun problème ni handicap actuel | Sin problemas ni discapacidades actuales | Nessun problema o disabilità in atto
787483001 | No known device use | Keine bekannte Verwendung von Medizinprodukten | Sem utilização conhecida de dispositivos médicos | Aucune utilisation connue de dispositif médical | Sin uso conocido de dispositivos médicos | Nessun uso noto di dispositivi medici
`],
  ['atc', 'http://www.whocc.no/atc', 'WHO ATC', `
A10BA02 | metformin | Metformin | metformina | metformine | metformina | metformina
B01AF02 | apixaban | Apixaban | apixabano | apixaban | apixabán | apixaban
C03CA01 | furosemide | Furosemid | furosemida | furosémide | furosemida | furosemide
C05AA08 | fluocortolone | Fluocortolon | fluocortolona | fluocortolone | fluocortolona | fluocortolone
C09AA05 | ramipril | Ramipril | ramipril | ramipril | ramipril | ramipril
C10AA01 | simvastatin | Simvastatin | sinvastatina | simvastatine | simvastatina | simvastatina
C10AA05 | atorvastatin | Atorvastatin | atorvastatina | atorvastatine | atorvastatina | atorvastatina
G02CX04 | Cimicifugae rhizoma | Cimicifugawurzelstock | rizoma de cimicífuga | rhizome de cimicifuga | rizoma de cimicífuga | rizoma di cimicifuga
H03AA01 | levothyroxine sodium | Levothyroxin-Natrium | levotiroxina sódica | lévothyroxine sodique | levotiroxina sódica | levotiroxina sodica
J01CA | Penicillins with extended spectrum | Penicilline mit erweitertem Wirkungsspektrum | Penicilinas de largo espetro | Pénicillines à large spectre | Penicilinas de amplio espectro | Penicilline ad ampio spettro
J07CA02 | diphtheria-pertussis-poliomyelitis-tetanus | Diphtherie-Pertussis-Poliomyelitis-Tetanus | difteria-tosse convulsa-poliomielite-tétano | diphtérie-coqueluche-poliomyélite-tétanos | difteria-tos ferina-poliomielitis-tétanos | difterite-pertosse-poliomielite-tetano
L02BG03 | anastrozole | Anastrozol | anastrozol | anastrozole | anastrozol | anastrozolo
N02CC01 | sumatriptan | Sumatriptan | sumatriptano | sumatriptan | sumatriptán | sumatriptan
R03AK06 | salmeterol and fluticasone | Salmeterol und Fluticason | salmeterol e fluticasona | salmétérol et fluticasone | salmeterol y fluticasona | salmeterolo e fluticasone
R03BB04 | tiotropium bromide | Tiotropiumbromid | brometo de tiotrópio | bromure de tiotropium | bromuro de tiotropio | tiotropio bromuro
`],
  ['ucum', 'http://unitsofmeasure.org', 'UCUM', `
% | percent | Prozent | por cento | pour cent | por ciento | per cento
1 | unity (dimensionless) | Eins (dimensionslos) | unidade (adimensional) | unité (sans dimension) | unidad (adimensional) | unità (adimensionale)
/[HPF] | per high power field | pro Hauptgesichtsfeld | por campo de grande ampliação | par champ à fort grossissement | por campo de gran aumento | per campo ad alto ingrandimento
/d | per day | pro Tag | por dia | par jour | por día | al giorno
a | year | Jahr | ano | an | año | anno
d | day | Tag | dia | jour | día | giorno
h | hour | Stunde | hora | heure | hora | ora
wk | week | Woche | semana | semaine | semana | settimana
mo | month | Monat | mês | mois | mes | mese
cm | centimetre | Zentimeter | centímetro | centimètre | centímetro | centimetro
g | gram | Gramm | grama | gramme | gramo | grammo
kg | kilogram | Kilogramm | quilograma | kilogramme | kilogramo | chilogrammo
mg | milligram | Milligramm | miligrama | milligramme | miligramo | milligrammo
ug | microgram | Mikrogramm | micrograma | microgramme | microgramo | microgrammo
mL | millilitre | Milliliter | mililitro | millilitre | mililitro | millilitro
L | litre | Liter | litro | litre | litro | litro
kg/m2 | kilogram per square metre | Kilogramm pro Quadratmeter | quilograma por metro quadrado | kilogramme par mètre carré | kilogramo por metro cuadrado | chilogrammo per metro quadrato
g/dL | gram per decilitre | Gramm pro Deziliter | grama por decilitro | gramme par décilitre | gramo por decilitro | grammo per decilitro
mg/dL | milligram per decilitre | Milligramm pro Deziliter | miligrama por decilitro | milligramme par décilitre | miligramo por decilitro | milligrammo per decilitro
mmol/L | millimole per litre | Millimol pro Liter | milimole por litro | millimole par litre | milimol por litro | millimole per litro
pg/mL | picogram per millilitre | Pikogramm pro Milliliter | picograma por mililitro | picogramme par millilitre | picogramo por mililitro | picogrammo per millilitro
m[IU]/L | milli-international unit per litre | Milli-Internationale Einheit pro Liter | miliunidade internacional por litro | milli-unité internationale par litre | miliunidad internacional por litro | milliunità internazionale per litro
mm[Hg] | millimetre of mercury | Millimeter Quecksilbersäule | milímetro de mercúrio | millimètre de mercure | milímetro de mercurio | millimetro di mercurio
`],
  ['cvx', 'http://hl7.org/fhir/sid/cvx', 'CVX', `
121 | Zoster vaccine, live | Herpes-zoster-Lebendimpfstoff | Vacina viva contra o herpes zóster | Vaccin vivant contre le zona | Vacuna viva contra el herpes zóster | Vaccino vivo contro l'herpes zoster
141 | Influenza, split virus, trivalent, preservative | Influenza-Spaltimpfstoff, trivalent, mit Konservierungsmittel | Vacina contra a gripe, virião fracionado, trivalente, com conservante | Vaccin grippal à virion fragmenté, trivalent, avec conservateur | Vacuna antigripal de virus fraccionados, trivalente, con conservante | Vaccino antinfluenzale a virus frammentato, trivalente, con conservante
208 | COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose | COVID-19, mRNA, LNP-S, ohne Konservierungsmittel, Dosis 30 µg/0,3 ml | COVID-19, mRNA, LNP-S, sem conservantes, dose de 30 µg/0,3 ml | COVID-19, ARNm, LNP-S, sans conservateur, dose de 30 µg/0,3 ml | COVID-19, ARNm, LNP-S, sin conservantes, dosis de 30 µg/0,3 ml | COVID-19, mRNA, LNP-S, senza conservanti, dose da 30 µg/0,3 ml
300 | COVID-19, mRNA, LNP-S, bivalent, PF, 30 mcg/0.3 mL dose | COVID-19, mRNA, LNP-S, bivalent, ohne Konservierungsmittel, Dosis 30 µg/0,3 ml | COVID-19, mRNA, LNP-S, bivalente, sem conservantes, dose de 30 µg/0,3 ml | COVID-19, ARNm, LNP-S, bivalent, sans conservateur, dose de 30 µg/0,3 ml | COVID-19, ARNm, LNP-S, bivalente, sin conservantes, dosis de 30 µg/0,3 ml | COVID-19, mRNA, LNP-S, bivalente, senza conservanti, dose da 30 µg/0,3 ml
`],
  ['edqm-standard-terms', 'http://standardterms.edqm.eu', 'EDQM Standard Terms', `
10219000 | Tablet | Tablette | Comprimido | Comprimé | Comprimido | Compressa
20035000 | Intramuscular use | Intramuskuläre Anwendung | Via intramuscular | Voie intramusculaire | Vía intramuscular | Uso intramuscolare
20053000 | Oral use | Zum Einnehmen | Via oral | Voie orale | Vía oral | Uso orale
`],
  ['icd-10', 'http://hl7.org/fhir/sid/icd-10', 'ICD-10', `
N95.1 | Menopausal and female climacteric states | Zustände im Zusammenhang mit der Menopause und dem Klimakterium der Frau | Estados da menopausa e do climatério feminino | Ménopause et climatère chez la femme | Estados menopáusicos y climatéricos femeninos | Stati menopausali e climaterici femminili
`],
  ['icd-o-3', `${THO}icd-o-3`, 'ICD-O-3', `
8500/3 | Infiltrating duct carcinoma, NOS | Invasives duktales Karzinom o.n.A. | Carcinoma ductal infiltrante, SOE | Carcinome canalaire infiltrant, SAI | Carcinoma ductal infiltrante, SAI | Carcinoma duttale infiltrante, NAS
`],
  ['dicom-dcm', 'http://dicom.nema.org/resources/ontology/DCM', 'DICOM Controlled Terminology', `
121065 | Procedure description | Beschreibung des Verfahrens | Descrição do procedimento | Description de la procédure | Descripción del procedimiento | Descrizione della procedura
121071 | Finding | Befund | Achado | Constatation | Hallazgo | Reperto
NM | Nuclear medicine | Nuklearmedizin | Medicina nuclear | Médecine nucléaire | Medicina nuclear | Medicina nucleare
`],
  ['rxnorm', 'http://www.nlm.nih.gov/research/umls/rxnorm', 'RxNorm', `
1294713 | Disintegrating oral product | Schmelztablette (Darreichungsform) | Forma oral orodispersível | Forme orodispersible | Forma oral bucodispersable | Forma orodispersibile
36567 | Simvastatin | Simvastatin | Sinvastatina | Simvastatine | Simvastatina | Simvastatina
757704 | Simvastatin 40 MG disintegrating oral tablet | Simvastatin 40 mg Schmelztablette | Sinvastatina 40 mg comprimido orodispersível | Simvastatine 40 mg comprimé orodispersible | Simvastatina 40 mg comprimido bucodispersable | Simvastatina 40 mg compressa orodispersibile
`],
  ['be-cnk', 'https://cnk.apb.be/codings/cnk_product_codes', 'Belgian CNK product codes', `
2374429 | Boostrix Polio, pre-filled syringe, 1 x 0.5 mL | Boostrix Polio Fertigspritze 1 × 0,5 ml | Boostrix Polio seringa pré-cheia 1 × 0,5 ml | Boostrix Polio seringue préremplie 1 × 0,5 ml | Boostrix Polio jeringa precargada 1 × 0,5 ml | Boostrix Polio siringa preriempita 1 × 0,5 ml
`],
  ['nl-g-standaard-prk', 'urn:oid:2.16.840.1.113883.2.4.4.1', 'Dutch G-Standaard (2.16.840.1.113883.2.4.4.1)', `
99872 | Anastrozole 1 mg tablet | Anastrozol 1 mg Tablette | Anastrozol 1 mg comprimido | Anastrozole 1 mg comprimé | Anastrozol 1 mg comprimido | Anastrozolo 1 mg compressa
`],
  ['nl-g-standaard-hpk', 'urn:oid:2.16.840.1.113883.2.4.4.7', 'Dutch G-Standaard (2.16.840.1.113883.2.4.4.7)', `
2076667 | Anastrozole CF 1 mg film-coated tablet | Anastrozol CF 1 mg Filmtablette | Anastrozol CF 1 mg comprimido revestido por película | Anastrozole CF 1 mg comprimé pelliculé | Anastrozol CF 1 mg comprimido recubierto con película | Anastrozolo CF 1 mg compressa rivestita con film
`],
  ['isco-08', 'urn:oid:2.16.840.1.113883.2.9.6.2.7', 'ISCO-08', `
221 | Medical doctors | Ärzte/Ärztinnen | Médicos | Médecins | Médicos | Medici
2221 | Nursing professionals | Pflegefachkräfte | Profissionais de enfermagem | Personnel infirmier | Profesionales de enfermería | Professioni infermieristiche
2222 | Midwifery professionals | Hebammen | Parteiras | Sages-femmes | Matronas | Ostetriche
2261 | Dentists | Zahnärzte/Zahnärztinnen | Médicos dentistas | Dentistes | Dentistas | Dentisti
2262 | Pharmacists | Apotheker/innen | Farmacêuticos | Pharmaciens | Farmacéuticos | Farmacisti
`],
  ['iso-3166', 'urn:iso:std:iso:3166', 'ISO 3166-1 country codes', `
AT | Austria | Österreich | Áustria | Autriche | Austria | Austria
PT | Portugal | Portugal | Portugal | Portugal | Portugal | Portogallo
US | United States of America | Vereinigte Staaten von Amerika | Estados Unidos da América | États-Unis d'Amérique | Estados Unidos de América | Stati Uniti d'America
`],
  ['bcp-47', 'urn:ietf:bcp:47', 'BCP 47 language tags', `
de | German | Deutsch | Alemão | Allemand | Alemán | Tedesco
de-AT | German (Austria) | Deutsch (Österreich) | Alemão (Áustria) | Allemand (Autriche) | Alemán (Austria) | Tedesco (Austria)
en | English | Englisch | Inglês | Anglais | Inglés | Inglese
en-NZ | English (New Zealand) | Englisch (Neuseeland) | Inglês (Nova Zelândia) | Anglais (Nouvelle-Zélande) | Inglés (Nueva Zelanda) | Inglese (Nuova Zelanda)
pt | Portuguese | Portugiesisch | Português | Portugais | Portugués | Portoghese
pt-PT | Portuguese (Portugal) | Portugiesisch (Portugal) | Português (Portugal) | Portugais (Portugal) | Portugués (Portugal) | Portoghese (Portogallo)
fr | French | Französisch | Francês | Français | Francés | Francese
es | Spanish | Spanisch | Espanhol | Espagnol | Español | Spagnolo
it | Italian | Italienisch | Italiano | Italien | Italiano | Italiano
`],
  ['ips-absent-unknown', 'http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips', 'IPS absent and unknown data (IPS 1.x)', `
no-allergy-info | No information about allergies | Keine Informationen über Allergien | Sem informação sobre alergias | Aucune information sur les allergies | Sin información sobre alergias | Nessuna informazione sulle allergie
no-known-allergies | No known allergies | Keine bekannten Allergien | Sem alergias conhecidas | Aucune allergie connue | Sin alergias conocidas | Nessuna allergia nota
no-known-medication-allergies | No known medication allergies | Keine bekannten Arzneimittelallergien | Sem alergias medicamentosas conhecidas | Aucune allergie médicamenteuse connue | Sin alergias a medicamentos conocidas | Nessuna allergia a farmaci nota
no-known-environmental-allergies | No known environmental allergies | Keine bekannten Umweltallergien | Sem alergias ambientais conhecidas | Aucune allergie environnementale connue | Sin alergias ambientales conocidas | Nessuna allergia ambientale nota
no-known-food-allergies | No known food allergies | Keine bekannten Nahrungsmittelallergien | Sem alergias alimentares conhecidas | Aucune allergie alimentaire connue | Sin alergias alimentarias conocidas | Nessuna allergia alimentare nota
no-medication-info | No information about medications | Keine Informationen über Medikamente | Sem informação sobre medicação | Aucune information sur les médicaments | Sin información sobre medicación | Nessuna informazione sui farmaci
no-known-medications | No known medications | Keine bekannten Medikamente | Sem medicação conhecida | Aucun médicament connu | Sin medicación conocida | Nessun farmaco noto
no-immunization-info | No information about immunizations | Keine Informationen über Impfungen | Sem informação sobre vacinas | Aucune information sur les vaccinations | Sin información sobre vacunas | Nessuna informazione sulle vaccinazioni
no-known-immunizations | No known immunizations | Keine bekannten Impfungen | Sem vacinas conhecidas | Aucune vaccination connue | Sin vacunas conocidas | Nessuna vaccinazione nota
no-problem-info | No information about problems | Keine Informationen über Probleme | Sem informação sobre problemas | Aucune information sur les problèmes | Sin información sobre problemas | Nessuna informazione sui problemi
no-known-problems | No known problems | Keine bekannten Probleme | Sem problemas conhecidos | Aucun problème connu | Sin problemas conocidos | Nessun problema noto
no-procedure-info | No information about past history of procedures | Keine Informationen über frühere Eingriffe | Sem informação sobre procedimentos anteriores | Aucune information sur les actes antérieurs | Sin información sobre procedimientos previos | Nessuna informazione su procedure pregresse
no-known-procedures | No known procedures | Keine bekannten Eingriffe | Sem procedimentos conhecidos | Aucun acte connu | Sin procedimientos conocidos | Nessuna procedura nota
no-device-info | No information about devices | Keine Informationen über Medizinprodukte | Sem informação sobre dispositivos | Aucune information sur les dispositifs | Sin información sobre dispositivos | Nessuna informazione sui dispositivi
no-known-devices | No known devices in use | Keine bekannten Medizinprodukte in Verwendung | Sem dispositivos conhecidos em utilização | Aucun dispositif connu en usage | Sin dispositivos conocidos en uso | Nessun dispositivo noto in uso
`],
  ['hl7-allergyintolerance-clinical', `${THO}allergyintolerance-clinical`, 'HL7 AllergyIntolerance clinical status', `
active | Active | Aktiv | Ativa | Active | Activa | Attiva
inactive | Inactive | Inaktiv | Inativa | Inactive | Inactiva | Inattiva
resolved | Resolved | Abgeklungen | Resolvida | Résolue | Resuelta | Risolta
`],
  ['hl7-allergyintolerance-verification', `${THO}allergyintolerance-verification`, 'HL7 AllergyIntolerance verification status', `
confirmed | Confirmed | Bestätigt | Confirmada | Confirmée | Confirmada | Confermata
unconfirmed | Unconfirmed | Unbestätigt | Não confirmada | Non confirmée | No confirmada | Non confermata
`],
  ['hl7-condition-clinical', `${THO}condition-clinical`, 'HL7 Condition clinical status', `
active | Active | Aktiv | Ativo | Actif | Activo | Attivo
inactive | Inactive | Inaktiv | Inativo | Inactif | Inactivo | Inattivo
remission | Remission | Remission | Remissão | Rémission | Remisión | Remissione
resolved | Resolved | Abgeklungen | Resolvido | Résolu | Resuelto | Risolto
`],
  ['hl7-condition-ver-status', `${THO}condition-ver-status`, 'HL7 Condition verification status', `
confirmed | Confirmed | Bestätigt | Confirmado | Confirmé | Confirmado | Confermato
provisional | Provisional | Vorläufig | Provisório | Provisoire | Provisional | Provvisorio
`],
  ['hl7-consentcategorycodes', `${THO}consentcategorycodes`, 'HL7 Consent category codes', `
dnr | Do not resuscitate | Keine Wiederbelebung | Não reanimar | Ne pas réanimer | No reanimar | Non rianimare
`],
  ['hl7-consentpolicycodes', `${THO}consentpolicycodes`, 'HL7 Consent policy codes', `
cric | Common Rule informed consent | Informierte Einwilligung nach der Common Rule | Consentimento informado segundo a Common Rule | Consentement éclairé selon la Common Rule | Consentimiento informado según la Common Rule | Consenso informato secondo la Common Rule
`],
  ['hl7-consentscope', `${THO}consentscope`, 'HL7 Consent scope', `
patient-privacy | Privacy consent | Datenschutzeinwilligung | Consentimento de privacidade | Consentement relatif à la confidentialité | Consentimiento de privacidad | Consenso alla privacy
treatment | Treatment | Behandlung | Tratamento | Traitement | Tratamiento | Trattamento
`],
  ['hl7-data-absent-reason', `${THO}data-absent-reason`, 'HL7 data absent reason', `
unknown | Unknown | Unbekannt | Desconhecido | Inconnu | Desconocido | Sconosciuto
asked-unknown | Asked but unknown | Erfragt, aber unbekannt | Perguntado, mas desconhecido | Demandé mais inconnu | Preguntado pero desconocido | Chiesto ma sconosciuto
not-asked | Not asked | Nicht erfragt | Não perguntado | Non demandé | No preguntado | Non chiesto
masked | Masked | Maskiert | Ocultado | Masqué | Enmascarado | Mascherato
not-applicable | Not applicable | Nicht zutreffend | Não aplicável | Sans objet | No aplicable | Non applicabile
`],
  ['hl7-flag-category', `${THO}flag-category`, 'HL7 Flag category', `
contact | Subject contact | Kontakt mit der Person | Contacto com o doente | Contact avec le patient | Contacto con el paciente | Contatto con il paziente
diet | Diet | Ernährung | Dieta | Régime alimentaire | Dieta | Dieta
`],
  ['hl7-flag-priority-code', 'http://hl7.org/fhir/flag-priority-code', 'HL7 Flag priority', `
PH | High priority | Hohe Priorität | Prioridade alta | Priorité élevée | Prioridad alta | Priorità alta
`],
  ['hl7-list-empty-reason', `${THO}list-empty-reason`, 'HL7 List empty reason', `
nilknown | Nil known | Nichts bekannt | Nada conhecido | Rien de connu | Nada conocido | Nulla di noto
notasked | Not asked | Nicht erfragt | Não perguntado | Non demandé | No preguntado | Non chiesto
withheld | Information withheld | Information zurückgehalten | Informação retida | Information retenue | Información retenida | Informazione non divulgata
unavailable | Unavailable | Nicht verfügbar | Indisponível | Non disponible | No disponible | Non disponibile
notstarted | Not started | Nicht begonnen | Não iniciado | Non commencé | No iniciado | Non iniziato
closed | Closed | Geschlossen | Fechado | Clos | Cerrado | Chiuso
`],
  ['hl7-observation-category', `${THO}observation-category`, 'HL7 Observation category', `
exam | Exam | Untersuchung | Exame | Examen | Exploración | Esame obiettivo
imaging | Imaging | Bildgebung | Imagiologia | Imagerie | Imagen | Diagnostica per immagini
laboratory | Laboratory | Labor | Laboratório | Laboratoire | Laboratorio | Laboratorio
social-history | Social history | Sozialanamnese | História social | Mode de vie | Historia social | Anamnesi sociale
vital-signs | Vital signs | Vitalparameter | Sinais vitais | Signes vitaux | Signos vitales | Parametri vitali
`],
  ['hl7-referencerange-meaning', `${THO}referencerange-meaning`, 'HL7 reference range meaning', `
normal | Normal range | Normalbereich | Intervalo normal | Valeurs normales | Rango normal | Intervallo normale
`],
  ['hl7-v2-0074', `${THO}v2-0074`, 'HL7 v2 table 0074 (diagnostic service section)', `
LAB | Laboratory | Labor | Laboratório | Laboratoire | Laboratorio | Laboratorio
`],
  ['hl7-v2-0131', `${THO}v2-0131`, 'HL7 v2 table 0131 (contact role)', `
C | Emergency contact | Notfallkontakt | Contacto de emergência | Contact en cas d'urgence | Contacto de emergencia | Contatto di emergenza
N | Next-of-kin | Nächste Angehörige | Familiar mais próximo | Plus proche parent | Familiar más cercano | Parente più prossimo
`],
  ['hl7-v2-0360', `${THO}v2-0360`, 'HL7 v2 table 0360 (degree)', `
MD | Doctor of Medicine | Doktor der Medizin | Doutor em Medicina | Docteur en médecine | Doctor en Medicina | Dottore in medicina
`],
  ['hl7-v3-actclass', `${THO}v3-ActClass`, 'HL7 v3 ActClass', `
PCPR | Care provision | Versorgungsleistung | Prestação de cuidados | Prestation de soins | Prestación de cuidados | Erogazione di cure
`],
  ['hl7-v3-actcode', `${THO}v3-ActCode`, 'HL7 v3 ActCode', `
OPTIN | Opt-in | Opt-in (ausdrückliche Einwilligung) | Opt-in (consentimento expresso) | Opt-in (consentement explicite) | Opt-in (consentimiento expreso) | Opt-in (consenso esplicito)
OPTOUT | Opt-out | Opt-out (Widerspruchslösung) | Opt-out (oposição) | Opt-out (opposition) | Opt-out (exclusión voluntaria) | Opt-out (opposizione)
`],
  ['hl7-v3-confidentiality', `${THO}v3-Confidentiality`, 'HL7 v3 Confidentiality', `
N | Normal | Normal | Normal | Normal | Normal | Normale
R | Restricted | Eingeschränkt | Restrito | Restreint | Restringido | Riservato
`],
  ['hl7-v3-maritalstatus', `${THO}v3-MaritalStatus`, 'HL7 v3 MaritalStatus', `
M | Married | Verheiratet | Casado(a) | Marié(e) | Casado/a | Coniugato/a
S | Never married | Ledig | Solteiro(a) | Célibataire | Soltero/a | Celibe/nubile
D | Divorced | Geschieden | Divorciado(a) | Divorcé(e) | Divorciado/a | Divorziato/a
W | Widowed | Verwitwet | Viúvo(a) | Veuf/veuve | Viudo/a | Vedovo/a
`],
  ['hl7-v3-observationinterpretation', `${THO}v3-ObservationInterpretation`, 'HL7 v3 ObservationInterpretation', `
H | High | Hoch | Alto | Élevé | Alto | Alto
L | Low | Niedrig | Baixo | Bas | Bajo | Basso
N | Normal | Normal | Normal | Normal | Normal | Normale
`],
  ['hl7-v3-observationvalue', `${THO}v3-ObservationValue`, 'HL7 v3 ObservationValue (security labels)', `
REDACTED | Redacted | Geschwärzt | Ocultado | Expurgé | Expurgado | Oscurato
TRSLT | Translated | Übersetzt | Traduzido | Traduit | Traducido | Tradotto
`],
  ['hl7-v3-rolecode', `${THO}v3-RoleCode`, 'HL7 v3 RoleCode', `
FAMMEMB | Family member | Familienmitglied | Membro da família | Membre de la famille | Miembro de la familia | Familiare
FRND | Unrelated friend | Freund/in (nicht verwandt) | Amigo(a) sem parentesco | Ami(e) sans lien de parenté | Amigo/a sin parentesco | Amico/a non parente
FTH | Father | Vater | Pai | Père | Padre | Padre
MTH | Mother | Mutter | Mãe | Mère | Madre | Madre
SPS | Spouse | Ehepartner/in | Cônjuge | Conjoint(e) | Cónyuge | Coniuge
`],
  ['hl7-v3-routeofadministration', `${THO}v3-RouteOfAdministration`, 'HL7 v3 RouteOfAdministration', `
IM | Injection, intramuscular | Injektion, intramuskulär | Injeção intramuscular | Injection intramusculaire | Inyección intramuscular | Iniezione intramuscolare
PO | Swallow, oral | Schlucken, oral | Deglutição, via oral | Avaler, voie orale | Tragar, vía oral | Deglutizione, per via orale
`],
];

// The IPS section titles, as designations of their LOINC section codes with use "section-title".
const SECTION_TITLES = `
48765-2 | Allergies and Intolerances | Allergien und Intoleranzen | Alergias e intolerâncias | Allergies et intolérances | Alergias e intolerancias | Allergie e intolleranze
10160-0 | Medication Summary | Medikationsübersicht | Resumo da medicação | Résumé des traitements | Resumen de la medicación | Riepilogo della terapia
11450-4 | Problem List | Problemliste | Lista de problemas | Liste des problèmes | Lista de problemas | Elenco dei problemi
11369-6 | History of Immunizations | Impfungen | Histórico de vacinação | Vaccinations | Historial de vacunación | Vaccinazioni
47519-4 | History of Procedures | Eingriffe | Histórico de procedimentos | Historique des actes | Historial de procedimientos | Storia delle procedure
46264-8 | Medical Devices | Medizinprodukte | Dispositivos médicos | Dispositifs médicaux | Dispositivos médicos | Dispositivi medici
30954-2 | Diagnostic Results | Diagnostische Ergebnisse | Resultados de diagnóstico | Résultats d'examens | Resultados diagnósticos | Risultati diagnostici
8716-3 | Vital Signs | Vitalparameter | Sinais vitais | Signes vitaux | Signos vitales | Parametri vitali
11348-0 | History of Past Illness | Frühere Erkrankungen | Antecedentes patológicos | Antécédents médicaux | Antecedentes patológicos | Anamnesi patologica remota
47420-5 | Functional Status | Funktioneller Status | Estado funcional | État fonctionnel | Estado funcional | Stato funzionale
18776-5 | Plan of Care | Behandlungsplan | Plano de cuidados | Plan de soins | Plan de cuidados | Piano di cura
29762-2 | Social History | Sozialanamnese | História social | Mode de vie | Historia social | Anamnesi sociale
10162-6 | History of Pregnancy | Schwangerschaften | Histórico de gravidezes | Antécédents de grossesse | Historial de embarazos | Storia delle gravidanze
42348-3 | Advance Directives | Patientenverfügungen | Diretivas antecipadas de vontade | Directives anticipées | Instrucciones previas | Disposizioni anticipate di trattamento
104605-1 | Alerts | Warnhinweise | Alertas | Alertes | Alertas | Allerte
81338-6 | Patient Story | Patientengeschichte | História do doente | Récit du patient | Historia del paciente | Storia del paziente
`;

function rows(block, where) {
  return block
    .trim()
    .split('\n')
    .map((line, i) => {
      const cells = line.split(' | ').map((c) => c.trim());
      if (cells.length !== LANGUAGES.length + 1 || cells.some((c) => c === '')) throw new Error(`${where}, line ${i + 1}: expected a code and ${LANGUAGES.length} translations: ${line}`);
      return cells;
    });
}

const designations = (cells, use) => LANGUAGES.map((language, i) => ({ language, ...(use ? { use } : {}), value: cells[i + 1] }));

function supplement(file, system, title, concepts) {
  const name = file.replace(/(^|-)([a-z0-9])/g, (_, _d, c) => c.toUpperCase());
  return {
    resourceType: 'CodeSystem',
    id: `pontis-demo-${file}`,
    url: `https://pontis.example.eu/fhir/CodeSystem/demo-translations-${file}`,
    version: VERSION,
    name: `PontisDemoTranslations${name}`,
    title: `${title}: demonstration translations (${LANGUAGES.join(', ')})`,
    status: 'draft',
    experimental: true,
    publisher: 'Pontis project (demonstration)',
    description: `Displays of ${title} codes used in the Pontis demo documents and the IPS 2.0.0 examples, in ${LANGUAGES.join(', ')}. ${DISCLAIMER}`,
    purpose: `Demonstrates translated International Patient Summaries. ${DISCLAIMER}`,
    caseSensitive: true,
    content: 'supplement',
    supplements: system,
    count: concepts.length,
    concept: concepts,
  };
}

mkdirSync(OUT, { recursive: true });
for (const name of readdirSync(OUT)) if (name.startsWith('CodeSystem-') && name.endsWith('.json')) rmSync(join(OUT, name));
let files = 0;
let total = 0;
for (const [file, system, title, block] of SYSTEMS) {
  const seen = new Set();
  const concepts = rows(block, file).map((cells) => {
    if (seen.has(cells[0])) throw new Error(`${file}: ${cells[0]} twice`);
    seen.add(cells[0]);
    return { code: cells[0], designation: designations(cells) };
  });
  if (system === 'http://loinc.org') {
    // Section titles join the display designations of the same LOINC codes.
    for (const cells of rows(SECTION_TITLES, 'section titles')) {
      let concept = concepts.find((c) => c.code === cells[0]);
      if (!concept) concepts.push((concept = { code: cells[0], designation: [] }));
      concept.designation.push(...designations(cells, SECTION_TITLE_USE));
    }
  }
  writeFileSync(join(OUT, `CodeSystem-${file}.json`), `${JSON.stringify(supplement(file, system, title, concepts), null, 2)}\n`);
  files++;
  total += concepts.length;
}
process.stdout.write(`terminology/: ${files} CodeSystem supplements, ${total} concepts, languages ${LANGUAGES.join(', ')}\n`);
